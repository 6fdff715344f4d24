import type { Box } from '../../api';
import { toast } from '../../toast';
import { createMask, describe, segment } from '../segmenting';
import { boxDrag } from './drag-box';
import type { Tool } from './tool';

/**
 * Box to mask: drag a box around an object, as with the box tool; the server outlines the object in it (the project's
 * segmentation model, else GrabCut) and the outline becomes an ordinary mask of the current label, editable with the
 * brush and convertible to a polygon (K) like any other.
 */
export const boxMaskTool: Tool = {
  id: 'box-mask', name: 'Box→mask', key: 'x', edits: true,
  title: 'Box to mask: drag a box around an object and the server outlines it as a mask',
  hint: 'Box to mask: drag a box around an object',
  help: 'box to mask: drag a box around an object; the server outlines it as a mask of the current label',
  create(ed) {
    const drag = boxDrag(ed);
    /** Boxes sent and not answered yet (image pixels): painted dashed until their mask comes, so a slow answer is
     *  visibly on its way, and several boxes may be out at once. */
    const waiting = new Set<Box>();

    const send = async (box: Box, labelId: string) => {
      waiting.add(box);
      ed.redrawOverlay();
      try {
        const answer = await segment(ed, { box });
        createMask(ed, labelId, answer);
        toast(`Mask of ${ed.labelName(labelId)} added (${describe(answer)}): M paints on it, K makes it a polygon`);
      } catch (err) {
        toast(`Box to mask: ${(err as Error).message}`, true);
      } finally {
        waiting.delete(box);
        ed.redrawOverlay();
      }
    };

    return {
      down: p => drag.down(p),
      move: p => drag.move(p),
      up() {
        const box = drag.finish();
        if (!box) return;
        // The label is the one current when the box was drawn, not when the answer comes.
        const label = ed.state.currentLabel;
        if (!label) { toast('The project has no labels: add one first', true); return; }
        void send(box, label);
      },
      cancel: () => drag.cancel(),
      paint(ctx) {
        drag.paint(ctx);
        ctx.save();
        ctx.setLineDash([5, 4]);
        ctx.strokeStyle = '#fff';
        ctx.fillStyle = '#fff';
        ctx.font = '12px system-ui';
        for (const b of waiting) {
          const [x0, y0] = ed.view.toScreen(b.x, b.y), [x1, y1] = ed.view.toScreen(b.x + b.width, b.y + b.height);
          ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
          ctx.fillText('segmenting…', x0 + 4, y0 + 14);
        }
        ctx.restore();
      },
    };
  },
};
