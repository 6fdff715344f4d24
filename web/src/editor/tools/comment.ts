import { toast } from '../../toast';
import { round, Tool } from './tool';

/**
 * Click to place a comment pin; its text is typed in the comments panel (panels/comments.ts), which opens a new thread
 * there. Comments change no annotation, so the tool stays while the image is submitted or approved.
 */
export const commentTool: Tool = {
  id: 'comment', name: 'Comment', key: 'c', edits: true, keepsWhenLocked: true,
  hint: 'Comment tool: click the image where the comment belongs, then type it in the Comments panel',
  help: 'comment tool: click to pin a new comment thread on the image, then type it in the Comments panel',
  create: ed => ({
    down(p) {
      const info = ed.state.info;
      if (info && (p.ix < 0 || p.iy < 0 || p.ix > info.width || p.iy > info.height)) { toast('Pin comments on the image, not beside it', true); return; }
      ed.store.set({ commentDraft: { x: round(p.ix), y: round(p.iy) } });
      ed.redrawOverlay();
      toast('Type the comment in the Comments panel (Enter adds it, Esc drops it)');
    },
    cancel() { if (ed.state.commentDraft) { ed.store.set({ commentDraft: null }); ed.redrawOverlay(); } },
  }),
};
