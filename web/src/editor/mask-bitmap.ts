import type { Mask } from '../api';
import { decodeRle, rleBox } from './shapes';

/** A mask drawn in one colour on a canvas of its own bounds (image pixels, placed at x, y): the renderer caches these
 *  per shape, and click to mask paints its pending preview with one. */
export function maskBitmap(m: Mask, color: string): { canvas: HTMLCanvasElement | OffscreenCanvas; x: number; y: number } {
  const [h] = m.size;
  const runs = decodeRle(m.counts);
  const [bx, by, bw, bh] = rleBox(runs, h);
  // In the scene worker (100,000 shapes) there is no document: an OffscreenCanvas does the same.
  const canvas = typeof document === 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas');
  canvas.width = Math.max(1, bw);
  canvas.height = Math.max(1, bh);
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
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
  return { canvas, x: bx, y: by };
}
