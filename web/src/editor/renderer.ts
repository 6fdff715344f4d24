import type { Box, Label, Mask, Polygon } from '../api';
import { maskBitmap } from './mask-bitmap';
import type { Shape } from './shapes';
import { Viewport } from './viewport';

export interface DrawOptions {
  labels: ReadonlyMap<string, Label>;
  selected: ReadonlySet<string>;
  hiddenLabels: ReadonlySet<string>;
  fillOpacity: number;
}

/**
 * Draws the image and its shapes on a 2D canvas. Only shapes whose bounds meet the view are drawn, batched into
 * one path per colour and style; shapes under two screen pixels are drawn as a dot and polygon points under a
 * screen pixel apart are skipped (level of detail); masks are drawn from a bitmap of their own bounds, made once per
 * geometry, never as paths.
 */
export class Renderer {
  private readonly masks = new WeakMap<object, { canvas: HTMLCanvasElement | OffscreenCanvas; x: number; y: number }>();
  /** Shapes the last draw showed as a dot (under 2 screen pixels): aggregated, never dropped (data-aggregated). */
  aggregated = 0;

  /**
   * Draws the shapes (the image itself is an <img> under this canvas, scaled by the compositor). With `region` (image
   * pixels), only that rectangle is cleared and redrawn: a peer's op repaints what it touched, not 10,000 shapes.
   */
  draw(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, view: Viewport, width: number, height: number, shapes: Iterable<Shape>, o: DrawOptions,
       region?: [number, number, number, number]): number {
    ctx.save();
    if (!region) ctx.clearRect(0, 0, width, height);
    ctx.setTransform(ctx.getTransform().multiply(new DOMMatrix([view.scale, 0, 0, view.scale, view.tx, view.ty])));
    let [vx0, vy0] = view.toImage(0, 0), [vx1, vy1] = view.toImage(width, height);
    if (region) {
      [vx0, vy0, vx1, vy1] = [Math.max(vx0, region[0]), Math.max(vy0, region[1]), Math.min(vx1, region[2]), Math.min(vy1, region[3])];
      if (vx1 <= vx0 || vy1 <= vy0) { ctx.restore(); return 0; }
      ctx.beginPath();
      ctx.rect(vx0, vy0, vx1 - vx0, vy1 - vy0);
      ctx.clip();
      ctx.clearRect(vx0, vy0, vx1 - vx0, vy1 - vy0);
    }
    const px = 1 / view.scale; // one screen pixel in image units
    // Shapes are batched into one path per colour and style, so 10,000 shapes cost a handful of fill and stroke
    // calls instead of 20,000; the selected ones are drawn again on top.
    const batches = new Map<string, Batch>();
    const batch = (color: string, style: Style) => {
      const key = `${color}|${style}`;
      let b = batches.get(key);
      if (!b) batches.set(key, b = { color, style, fill: new Path2D(), stroke: new Path2D(), dots: new Path2D() });
      return b;
    };
    const selected: Shape[] = [];
    const captions: Shape[] = [];
    const masks: { shape: Shape; color: string; style: Style }[] = [];
    let drawn = 0;
    this.aggregated = 0;
    for (const s of shapes) {
      if (o.hiddenLabels.has(s.labelId)) continue;
      const [x0, y0, x1, y1] = s.bounds;
      if (x1 < vx0 || y1 < vy0 || x0 > vx1 || y0 > vy1) continue;
      drawn++;
      const color = o.labels.get(s.labelId)?.color ?? '#ffffff';
      const style: Style = s.state === 'rejected' ? 'rejected' : s.state === 'proposed' ? 'proposed' : 'solid';
      if (o.selected.has(s.id)) selected.push(s);
      // Level of detail: a shape under 2 screen pixels is a dot; a polygon under 6 is its box.
      if ((x1 - x0) < 2 * px && (y1 - y0) < 2 * px) { batch(color, style).dots.rect(x0, y0, 2 * px, 2 * px); this.aggregated++; continue; }
      if (s.kind === 'polygon' && (x1 - x0) < 6 * px && (y1 - y0) < 6 * px) { const b = batch(color, style); b.fill.rect(x0, y0, x1 - x0, y1 - y0); b.stroke.rect(x0, y0, x1 - x0, y1 - y0); continue; }
      if (s.kind === 'mask') { masks.push({ shape: s, color, style }); continue; }
      const b = batch(color, style);
      if (s.kind === 'box') {
        const g = s.geometry as Box;
        b.fill.rect(g.x, g.y, g.width, g.height);
        b.stroke.rect(g.x, g.y, g.width, g.height);
      } else addRings(b.fill, b.stroke, (s.geometry as Polygon).rings, 2 * px); // points under 2 screen pixels apart merge
      if (style === 'proposed' && s.source.score != null && (x1 - x0) * view.scale > 60) captions.push(s);
    }
    for (const b of batches.values()) {
      ctx.globalAlpha = b.style === 'rejected' ? 0.35 : 1;
      ctx.fillStyle = ctx.strokeStyle = b.color;
      ctx.fill(b.dots);
      if (o.fillOpacity > 0) { ctx.globalAlpha *= o.fillOpacity; ctx.fill(b.fill); ctx.globalAlpha = b.style === 'rejected' ? 0.35 : 1; }
      ctx.lineWidth = px; // one device pixel: Skia's fast hairline path (a wider line costs the full stroker)
      ctx.setLineDash(b.style === 'proposed' ? [6 * px, 4 * px] : []);
      ctx.stroke(b.stroke);
    }
    ctx.setLineDash([]);
    for (const { shape, color, style } of masks) {
      const m = this.mask(shape.geometry as Mask, color);
      ctx.globalAlpha = (style === 'rejected' ? 0.35 : 1) * Math.min(1, o.fillOpacity * 2 + (o.selected.has(shape.id) ? 0.3 : 0));
      ctx.drawImage(m.canvas, m.x, m.y);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5 * px;
      const [x0, y0, x1, y1] = shape.bounds;
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    }
    ctx.globalAlpha = 1;
    for (const s of selected) {
      const color = o.labels.get(s.labelId)?.color ?? '#ffffff';
      const fill = new Path2D(), stroke = new Path2D();
      if (s.kind === 'box') { const g = s.geometry as Box; fill.rect(g.x, g.y, g.width, g.height); stroke.rect(g.x, g.y, g.width, g.height); }
      else if (s.kind === 'polygon') addRings(fill, stroke, (s.geometry as Polygon).rings, 0);
      else { const [x0, y0, x1, y1] = s.bounds; stroke.rect(x0, y0, x1 - x0, y1 - y0); }
      ctx.fillStyle = ctx.strokeStyle = color;
      ctx.globalAlpha = Math.min(1, o.fillOpacity + 0.15);
      ctx.fill(fill, 'evenodd');
      ctx.globalAlpha = 1;
      ctx.lineWidth = 3 * px;
      ctx.stroke(stroke);
    }
    if (captions.length <= 300) {
      ctx.font = `${12 * px}px system-ui`;
      for (const s of captions) {
        ctx.fillStyle = o.labels.get(s.labelId)?.color ?? '#ffffff';
        ctx.fillText(`${o.labels.get(s.labelId)?.name ?? ''} ${(s.source.score! * 100).toFixed(0)}%`, s.bounds[0] + 2 * px, s.bounds[1] - 3 * px);
      }
    }
    ctx.restore();
    return drawn;
  }

  /** The mask as a bitmap of its bounds, in the label's colour (cached per geometry object). */
  private mask(m: Mask, color: string): { canvas: HTMLCanvasElement | OffscreenCanvas; x: number; y: number } {
    const cached = this.masks.get(m);
    if (cached) return cached;
    const entry = maskBitmap(m, color);
    this.masks.set(m, entry);
    return entry;
  }
}

type Style = 'solid' | 'proposed' | 'rejected';
interface Batch { color: string; style: Style; fill: Path2D; stroke: Path2D; dots: Path2D }

/** Adds rings to a fill and a stroke path, skipping points closer than `minStep` to the last one drawn (level of detail). */
function addRings(fill: Path2D, stroke: Path2D, rings: number[][], minStep: number): void {
  for (const r of rings) {
    fill.moveTo(r[0], r[1]); stroke.moveTo(r[0], r[1]);
    let lx = r[0], ly = r[1];
    for (let i = 2; i + 1 < r.length; i += 2) {
      if (Math.abs(r[i] - lx) < minStep && Math.abs(r[i + 1] - ly) < minStep && i + 3 < r.length) continue;
      lx = r[i]; ly = r[i + 1];
      fill.lineTo(lx, ly); stroke.lineTo(lx, ly);
    }
    fill.closePath(); stroke.closePath();
  }
}
