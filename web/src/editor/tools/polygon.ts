import { toast } from '../../toast';
import { clampTo, round, Tool } from './tool';

/** Click the points; Enter or double-click closes the polygon. */
export const polygonTool: Tool = {
  id: 'polygon', name: 'Polygon', key: 'p', edits: true, hint: 'Polygon tool: click points, Enter closes',
  help: 'polygon tool: click the points; Enter or double-click closes it, Backspace removes the last point',
  create(ed) {
    /** The polygon being drawn, in image pixels (x0, y0, x1, y1, …), and the cursor for its rubber band. */
    let draft: number[] | null = null;
    let cursor: [number, number] | null = null;

    const close = () => {
      let points = draft;
      draft = null;
      ed.redrawOverlay();
      // A double-click's second press added the same point again: drop points within 2 screen pixels of the one before.
      if (points) {
        const kept: number[] = [];
        for (let i = 0; i + 1 < points.length; i += 2) {
          const n = kept.length;
          if (n >= 2 && Math.hypot(points[i] - kept[n - 2], points[i + 1] - kept[n - 1]) * ed.view.scale < 2) continue;
          kept.push(points[i], points[i + 1]);
        }
        points = kept;
      }
      if (!points || points.length < 6) { toast('A polygon needs at least 3 points', true); return; }
      const label = ed.state.currentLabel;
      if (!label) { toast('The project has no labels: add one first', true); return; }
      const id = crypto.randomUUID();
      ed.live.create(id, { labelId: label, kind: 'polygon', geometry: { rings: [points] } });
      ed.select([id]);
    };

    return {
      down(p) {
        const info = ed.state.info!;
        draft = [...(draft ?? []), round(clampTo(p.ix, info.width)), round(clampTo(p.iy, info.height))];
        ed.redrawOverlay();
      },
      move(p) { cursor = [p.ix, p.iy]; if (draft) ed.redrawOverlay(); },
      dblclick() { if (draft) close(); },
      key(e) {
        if (!draft) return false;
        if (e.key === 'Enter') { close(); return true; }
        if (e.key !== 'Backspace') return false;
        draft = draft.length > 2 ? draft.slice(0, -2) : null;
        ed.redrawOverlay();
        return true;
      },
      cancel() { draft = null; },
      paint(ctx) {
        if (!draft || draft.length < 2) return;
        ctx.strokeStyle = ed.state.labels.get(ed.state.currentLabel)?.color ?? '#fff';
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        for (let i = 0; i + 1 < draft.length; i += 2) {
          const [sx, sy] = ed.view.toScreen(draft[i], draft[i + 1]);
          if (i === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
          ctx.fillRect(sx - 3, sy - 3, 6, 6);
        }
        if (cursor) ctx.lineTo(...ed.view.toScreen(...cursor));
        ctx.stroke();
      },
    };
  },
};
