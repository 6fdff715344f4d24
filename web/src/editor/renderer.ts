import type { Box, Label, Mask, Polygon } from '../api';
import { decodeRle, rleBox, Shape } from './shapes';
import { Viewport } from './viewport';

export interface DrawOptions {
  labels: Map<string, Label>;
  selected: Set<string>;
  hiddenLabels: Set<string>;
  fillOpacity: number;
}

/**
 * Draws the image and its shapes on a 2D canvas. Only shapes whose bounds meet the view are drawn; shapes under
 * two screen pixels are drawn as a dot (level of detail); masks are drawn from a bitmap of their own bounds, made
 * once per geometry, never as paths.
 */
export class Renderer {
  private readonly masks = new WeakMap<object, { canvas: HTMLCanvasElement; x: number; y: number }>();

  draw(ctx: CanvasRenderingContext2D, view: Viewport, width: number, height: number, image: HTMLImageElement | null,
       shapes: Iterable<Shape>, o: DrawOptions): number {
    ctx.save();
    ctx.clearRect(0, 0, width, height);
    ctx.setTransform(ctx.getTransform().multiply(new DOMMatrix([view.scale, 0, 0, view.scale, view.tx, view.ty])));
    ctx.imageSmoothingEnabled = view.scale < 2; // pixels stay crisp when zoomed in
    if (image) ctx.drawImage(image, 0, 0);
    const [vx0, vy0] = view.toImage(0, 0), [vx1, vy1] = view.toImage(width, height);
    const px = 1 / view.scale; // one screen pixel in image units
    let drawn = 0;
    for (const s of shapes) {
      if (o.hiddenLabels.has(s.labelId)) continue;
      const [x0, y0, x1, y1] = s.bounds;
      if (x1 < vx0 || y1 < vy0 || x0 > vx1 || y0 > vy1) continue;
      drawn++;
      const color = o.labels.get(s.labelId)?.color ?? '#ffffff';
      const selected = o.selected.has(s.id);
      const proposal = s.state === 'proposed';
      ctx.lineWidth = (selected ? 3 : 1.5) * px;
      ctx.strokeStyle = color;
      ctx.setLineDash(proposal ? [6 * px, 4 * px] : []);
      if ((x1 - x0) < 2 * px && (y1 - y0) < 2 * px) { ctx.fillStyle = color; ctx.fillRect(x0, y0, 2 * px, 2 * px); continue; }
      ctx.globalAlpha = s.state === 'rejected' ? 0.35 : 1;
      if (s.kind === 'box') {
        const b = s.geometry as Box;
        this.fill(ctx, color, o.fillOpacity, selected, () => ctx.fillRect(b.x, b.y, b.width, b.height));
        ctx.strokeRect(b.x, b.y, b.width, b.height);
      } else if (s.kind === 'polygon') {
        const path = ringsPath((s.geometry as Polygon).rings);
        this.fill(ctx, color, o.fillOpacity, selected, () => ctx.fill(path, 'evenodd'));
        ctx.stroke(path);
      } else {
        const m = this.mask(s.geometry as Mask, color);
        ctx.globalAlpha *= Math.min(1, o.fillOpacity * 2 + (selected ? 0.3 : 0));
        ctx.drawImage(m.canvas, m.x, m.y);
        ctx.globalAlpha = 1;
        ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      }
      ctx.globalAlpha = 1;
      if (proposal && s.source.score != null && (x1 - x0) * view.scale > 30) {
        ctx.setLineDash([]);
        ctx.font = `${12 * px}px system-ui`;
        ctx.fillStyle = color;
        ctx.fillText(`${o.labels.get(s.labelId)?.name ?? ''} ${(s.source.score * 100).toFixed(0)}%`, x0 + 2 * px, y0 - 3 * px);
      }
    }
    ctx.restore();
    return drawn;
  }

  private fill(ctx: CanvasRenderingContext2D, color: string, opacity: number, selected: boolean, paint: () => void): void {
    const alpha = Math.min(1, opacity + (selected ? 0.15 : 0));
    if (alpha <= 0) return;
    ctx.globalAlpha *= alpha;
    ctx.fillStyle = color;
    paint();
    ctx.globalAlpha /= alpha;
  }

  /** The mask as a bitmap of its bounds, in the label's colour (cached per geometry object). */
  private mask(m: Mask, color: string): { canvas: HTMLCanvasElement; x: number; y: number } {
    const cached = this.masks.get(m);
    if (cached) return cached;
    const [h] = m.size;
    const runs = decodeRle(m.counts);
    const [bx, by, bw, bh] = rleBox(runs, h);
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, bw);
    canvas.height = Math.max(1, bh);
    const ctx = canvas.getContext('2d')!;
    const data = ctx.createImageData(canvas.width, canvas.height);
    const [r, g, b] = [1, 3, 5].map(i => parseInt(color.slice(i, i + 2), 16));
    let at = 0;
    for (let i = 0; i < runs.length; i++) {
      if (i & 1) for (let p = at; p < at + runs[i]; p++) {
        const x = Math.floor(p / h) - bx, y = (p % h) - by;
        const o = (y * canvas.width + x) * 4;
        data.data[o] = r; data.data[o + 1] = g; data.data[o + 2] = b; data.data[o + 3] = 255;
      }
      at += runs[i];
    }
    ctx.putImageData(data, 0, 0);
    const entry = { canvas, x: bx, y: by };
    this.masks.set(m, entry);
    return entry;
  }
}

function ringsPath(rings: number[][]): Path2D {
  const path = new Path2D();
  for (const r of rings) {
    path.moveTo(r[0], r[1]);
    for (let i = 2; i + 1 < r.length; i += 2) path.lineTo(r[i], r[i + 1]);
    path.closePath();
  }
  return path;
}
