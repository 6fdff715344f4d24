import { toast } from '../../toast';
import { round, Tool } from './tool';

/** Click to pin a comment on the image (its text asked for in a prompt). */
export const commentTool: Tool = {
  id: 'comment', name: 'Comment', key: 'c', edits: true, hint: 'Comment tool: click to pin a comment',
  help: 'comment tool: click to pin a comment on the image',
  create: ed => ({
    async down(p) {
      const text = prompt('Comment')?.trim();
      if (!text) { toast('No comment pinned (empty)'); return; }
      try { await ed.live.addComment(round(p.ix), round(p.iy), text); toast('Comment pinned'); }
      catch (err) { toast(`Comment not added: ${(err as Error).message}`, true); }
    },
  }),
};
