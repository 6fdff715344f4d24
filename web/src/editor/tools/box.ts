import { toast } from '../../toast';
import { clampTo, round, Tool } from './tool';

/** Drag to draw a box with the current label. */
export const boxTool: Tool = {
  id: 'box', name: 'Box', key: 'b', edits: true, hint: 'Box tool: drag to draw',
  help: 'box tool: drag to draw a box with the current label',
  create(ed) {
    let drag: { x0: number; y0: number; x: number; y: number } | null = null;
    return {
      down(p) { drag = { x0: p.x, y0: p.y, x: p.x, y: p.y }; },
      move(p) { if (drag) { drag.x = p.x; drag.y = p.y; ed.redrawOverlay(); } },
      up() {
        const d = drag, info = ed.state.info;
        drag = null;
        ed.redrawOverlay();
        if (!d || !info) return;
        const [ax, ay] = ed.view.toImage(d.x0, d.y0), [bx, by] = ed.view.toImage(d.x, d.y);
        if ((Math.abs(bx - ax)) * ed.view.scale < 3 || Math.abs(by - ay) * ed.view.scale < 3) return; // a click, not a box
        const x0 = clampTo(Math.min(ax, bx), info.width), x1 = clampTo(Math.max(ax, bx), info.width);
        const y0 = clampTo(Math.min(ay, by), info.height), y1 = clampTo(Math.max(ay, by), info.height);
        // Clamped to the image, a box drawn beside it has no area left: say so rather than drop it silently.
        if ((x1 - x0) * ed.view.scale < 3 || (y1 - y0) * ed.view.scale < 3) { toast('Not drawn: the box was outside the image', true); return; }
        const label = ed.state.currentLabel;
        if (!label) { toast('The project has no labels: add one first', true); return; }
        const id = crypto.randomUUID();
        ed.live.create(id, { labelId: label, kind: 'box', geometry: { x: round(x0), y: round(y0), width: round(x1 - x0), height: round(y1 - y0) } });
        ed.select([id]);
      },
      cancel() { drag = null; },
      paint(ctx) {
        if (!drag) return;
        ctx.strokeStyle = ed.state.labels.get(ed.state.currentLabel)?.color ?? '#fff';
        ctx.lineWidth = 1.5;
        ctx.strokeRect(drag.x0, drag.y0, drag.x - drag.x0, drag.y - drag.y0);
      },
    };
  },
};
