import type { Mask } from '../../api';
import { toast } from '../../toast';
import type { Editor } from '../editor';
import { MaskPainter } from '../mask-painter';
import type { ToolSession } from './tool';

/**
 * Brush and eraser strokes (shared by brush.ts and eraser.ts): a stroke paints on the selected mask or, for the
 * brush, a new one; each stroke is one op (a create for a new mask, a delete when it was erased away).
 */
export function maskStroke(ed: Editor, erase: boolean): ToolSession {
  let painting: { id: string | null; painter: MaskPainter } | null = null;
  let cursor: [number, number] | null = null;

  const start = (x: number, y: number) => {
    const info = ed.state.info;
    if (!info) return;
    const selected = ed.single();
    const target = selected?.kind === 'mask' && !ed.state.locked.has(selected.id) ? selected : undefined;
    if (!target && erase) { toast('Select a mask to erase from', true); return; }
    if (!target && !ed.state.currentLabel) { toast('The project has no labels: add one first', true); return; }
    const color = ed.state.labels.get(target?.labelId ?? ed.state.currentLabel)?.color ?? '#ffffff';
    const painter = new MaskPainter(info.width, info.height, color, target ? target.geometry as Mask : undefined);
    painting = { id: target?.id ?? null, painter };
    painter.begin();
    painter.stroke(x, y, ed.state.brushRadius, erase);
    ed.store.set({ preview: target ? { id: target.id, geometry: null } : null }); // on the overlay while painted
    ed.redrawOverlay();
  };

  const finish = () => {
    if (!painting) return;
    const { id, painter } = painting;
    painting = null;
    const rle = painter.toRle();
    ed.store.set({ preview: null });
    if (id && rle) ed.live.update(id, { geometry: rle });
    else if (id) { ed.live.remove(id); toast('Mask erased'); }
    else if (rle) {
      const created = crypto.randomUUID();
      ed.live.create(created, { labelId: ed.state.currentLabel, kind: 'mask', geometry: rle });
      ed.select([created]); // the next stroke paints on the same mask
    }
    ed.redrawOverlay();
  };

  return {
    down(p) { start(p.ix, p.iy); },
    move(p) {
      cursor = [p.ix, p.iy];
      if (painting && p.buttons & 1) painting.painter.stroke(p.ix, p.iy, ed.state.brushRadius, erase);
      ed.redrawOverlay();
    },
    up: finish,
    cancel() { painting = null; if (ed.state.preview) ed.store.set({ preview: null }); },
    paint(ctx) {
      if (painting) {
        ctx.save();
        ctx.globalAlpha = 0.5;
        ctx.setTransform(ctx.getTransform().multiply(new DOMMatrix([ed.view.scale, 0, 0, ed.view.scale, ed.view.tx, ed.view.ty])));
        ctx.drawImage(painting.painter.canvas, 0, 0);
        ctx.restore();
      }
      if (!cursor) return;
      const [sx, sy] = ed.view.toScreen(...cursor);
      ctx.strokeStyle = erase ? '#ff5a5f' : '#fff';
      ctx.beginPath(); ctx.arc(sx, sy, ed.state.brushRadius * ed.view.scale, 0, Math.PI * 2); ctx.stroke();
    },
  };
}
