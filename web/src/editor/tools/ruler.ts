import { toast } from '../../toast';
import type { Tool } from './tool';

/**
 * Drag to measure a distance in image pixels; the line and its length stay on the overlay until the next drag or
 * Esc. Nothing is sent to the server, so viewers may use it. Publishes the length as `data-measure` on the overlay.
 */
export const rulerTool: Tool = {
  id: 'ruler', name: 'Ruler', key: 'l', edits: false, hint: 'Ruler: drag to measure a distance in image pixels',
  help: 'ruler: drag to measure a distance in image pixels (nothing is saved)',
  create(ed) {
    let line: { ax: number; ay: number; bx: number; by: number } | null = null;
    let dragging = false;
    const length = () => line ? Math.hypot(line.bx - line.ax, line.by - line.ay) : 0;
    return {
      down(p) { line = { ax: p.ix, ay: p.iy, bx: p.ix, by: p.iy }; dragging = true; ed.redrawOverlay(); },
      move(p) { if (dragging && line) { line.bx = p.ix; line.by = p.iy; ed.redrawOverlay(); } },
      up() {
        if (!dragging) return;
        dragging = false;
        if (line && length() * ed.view.scale < 3) line = null; // a click, not a measurement
        if (line) toast(`${length().toFixed(1)} px (${Math.abs(line.bx - line.ax).toFixed(1)} × ${Math.abs(line.by - line.ay).toFixed(1)})`);
        ed.redrawOverlay();
      },
      cancel() { line = null; dragging = false; },
      paint(ctx) {
        ctx.canvas.dataset.measure = line ? length().toFixed(1) : '';
        if (!line) return;
        const [ax, ay] = ed.view.toScreen(line.ax, line.ay), [bx, by] = ed.view.toScreen(line.bx, line.by);
        ctx.strokeStyle = '#ffd400';
        ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(ax, ay); ctx.lineTo(bx, by); ctx.stroke();
        for (const [x, y] of [[ax, ay], [bx, by]]) { ctx.beginPath(); ctx.arc(x, y, 3, 0, Math.PI * 2); ctx.stroke(); }
        const text = `${length().toFixed(1)} px`;
        ctx.font = 'bold 12px system-ui';
        const w = ctx.measureText(text).width;
        ctx.fillStyle = 'rgba(0,0,0,0.7)';
        ctx.fillRect((ax + bx) / 2 + 6, (ay + by) / 2 - 16, w + 8, 18);
        ctx.fillStyle = '#ffd400';
        ctx.fillText(text, (ax + bx) / 2 + 10, (ay + by) / 2 - 3);
      },
    };
  },
};
