import type { Box } from '../../api';
import { toast } from '../../toast';
import type { Editor } from '../editor';
import { clampTo, round, type Pointer } from './tool';

/**
 * Dragging a box on the image, shared by the box tool and box to mask: the drag in stage pixels (painted as it goes),
 * and on release the box in image pixels, clamped to the image; null for a click or a box wholly beside the image
 * (that one is said: the user dragged and gets nothing otherwise).
 */
export function boxDrag(ed: Editor) {
  let drag: { x0: number; y0: number; x: number; y: number } | null = null;
  return {
    get active() { return drag !== null; },
    down(p: Pointer) { drag = { x0: p.x, y0: p.y, x: p.x, y: p.y }; },
    move(p: Pointer) { if (drag) { drag.x = p.x; drag.y = p.y; ed.redrawOverlay(); } },
    finish(): Box | null {
      const d = drag, info = ed.state.info;
      drag = null;
      ed.redrawOverlay();
      if (!d || !info) return null;
      const [ax, ay] = ed.view.toImage(d.x0, d.y0), [bx, by] = ed.view.toImage(d.x, d.y);
      if ((Math.abs(bx - ax)) * ed.view.scale < 3 || Math.abs(by - ay) * ed.view.scale < 3) return null; // a click, not a box
      const x0 = clampTo(Math.min(ax, bx), info.width), x1 = clampTo(Math.max(ax, bx), info.width);
      const y0 = clampTo(Math.min(ay, by), info.height), y1 = clampTo(Math.max(ay, by), info.height);
      // Clamped to the image, a box drawn beside it has no area left: say so rather than drop it silently.
      if ((x1 - x0) * ed.view.scale < 3 || (y1 - y0) * ed.view.scale < 3) { toast('Not drawn: the box was outside the image', true); return null; }
      return { x: round(x0), y: round(y0), width: round(x1 - x0), height: round(y1 - y0) };
    },
    cancel() { drag = null; },
    paint(ctx: CanvasRenderingContext2D) {
      if (!drag) return;
      ctx.strokeStyle = ed.state.labels.get(ed.state.currentLabel)?.color ?? '#fff';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(drag.x0, drag.y0, drag.x - drag.x0, drag.y - drag.y0);
    },
  };
}
