import type { Mask } from '../api';
import { decodeRle, encodeRle } from './shapes';

/**
 * The mask being painted: its pixels (row-major, one byte each, the whole image) and a bitmap of them in the label's
 * colour for the overlay. The brush sets pixels in a disc, the eraser clears them; a stroke is stamped along the
 * pointer's path so fast moves leave no gaps. `toRle` gives the whole-image COCO RLE the server stores.
 */
export class MaskPainter {
  readonly pixels: Uint8Array;
  readonly canvas = document.createElement('canvas');
  private readonly ctx: CanvasRenderingContext2D;
  private last: [number, number] | null = null;

  constructor(readonly width: number, readonly height: number, color: string, from?: Mask) {
    this.pixels = new Uint8Array(width * height);
    this.canvas.width = width;
    this.canvas.height = height;
    this.ctx = this.canvas.getContext('2d')!;
    this.ctx.fillStyle = color;
    if (from) this.load(from, color);
  }

  private load(mask: Mask, color: string): void {
    const runs = decodeRle(mask.counts), h = this.height;
    const image = this.ctx.createImageData(this.width, this.height);
    const [r, g, b] = [1, 3, 5].map(i => parseInt(color.slice(i, i + 2), 16));
    let at = 0;
    for (let i = 0; i < runs.length; i++) {
      if (i & 1) for (let p = at; p < at + runs[i]; p++) {
        const x = Math.floor(p / h), y = p % h, o = y * this.width + x;
        this.pixels[o] = 1;
        image.data[o * 4] = r; image.data[o * 4 + 1] = g; image.data[o * 4 + 2] = b; image.data[o * 4 + 3] = 255;
      }
      at += runs[i];
    }
    this.ctx.putImageData(image, 0, 0);
  }

  begin(): void { this.last = null; }

  /** Sets every pixel whose centre is inside the rings (even-odd), as a polygon becomes a mask. */
  fillRings(rings: number[][]): void {
    for (let y = 0; y < this.height; y++) {
      const cy = y + 0.5, xs: number[] = [];
      for (const r of rings)
        for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2) {
          const [x1, y1, x2, y2] = [r[j], r[j + 1], r[i], r[i + 1]];
          if ((y1 > cy) !== (y2 > cy)) xs.push(x1 + ((cy - y1) * (x2 - x1)) / (y2 - y1));
        }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2)
        for (let x = Math.max(0, Math.ceil(xs[k] - 0.5)); x < Math.min(this.width, Math.ceil(xs[k + 1] - 0.5)); x++) this.pixels[y * this.width + x] = 1;
    }
  }

  /** Paints (or erases) a disc of `radius` image pixels at (x, y), and along the segment from the last point. */
  stroke(x: number, y: number, radius: number, erase: boolean): void {
    const [lx, ly] = this.last ?? [x, y];
    const steps = Math.max(1, Math.ceil(Math.hypot(x - lx, y - ly) / Math.max(1, radius / 2)));
    for (let i = 1; i <= steps; i++) this.disc(lx + ((x - lx) * i) / steps, ly + ((y - ly) * i) / steps, radius, erase);
    this.last = [x, y];
  }

  private disc(cx: number, cy: number, r: number, erase: boolean): void {
    const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(this.width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(this.height - 1, Math.ceil(cy + r));
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++)
        if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.pixels[y * this.width + x] = erase ? 0 : 1;
    this.ctx.globalCompositeOperation = erase ? 'destination-out' : 'source-over';
    this.ctx.beginPath();
    this.ctx.arc(cx, cy, r, 0, Math.PI * 2);
    this.ctx.fill();
  }

  /** Whole-image COCO RLE (column-major runs starting with zeros); null when nothing is set. */
  toRle(): Mask | null {
    const counts: number[] = [];
    let on = 0, run = 0, any = false;
    for (let x = 0; x < this.width; x++)
      for (let y = 0, o = x; y < this.height; y++, o += this.width) {
        const v = this.pixels[o];
        if (v !== on) { counts.push(run); run = 0; on = v; any = true; }
        run++;
      }
    counts.push(run);
    return any ? { size: [this.height, this.width], counts: encodeRle(counts) } : null;
  }
}
