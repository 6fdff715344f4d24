/// <reference lib="webworker" />
// The scene worker: above WorkerScene's threshold (100,000 shapes), the shapes are rendered here, off the main thread,
// into an OffscreenCanvas, and handed back as an ImageBitmap that the main thread moves and scales with the view
// until the next one arrives. A render at 100,000 shapes takes longer than many frames; here it never holds one up.
import { Renderer, type DrawOptions } from './renderer';
import { ShapeIndex } from './shape-index';
import type { Shape } from './shapes';
import { Viewport } from './viewport';

export interface ViewAt { scale: number; tx: number; ty: number; width: number; height: number; dpr: number }
export type SceneRequest =
  | { t: 'sync'; upserts: Shape[]; removes: string[] }
  /** region (image pixels): only that part changed since the last render, valid when the view is the same. */
  | { t: 'render'; at: ViewAt; options: DrawOptions; region: [number, number, number, number] | null };
export interface SceneReply { bitmap: ImageBitmap; at: ViewAt; drawn: number; aggregated: number; ms: number }

const index = new ShapeIndex();
const renderer = new Renderer();
const canvas = new OffscreenCanvas(1, 1);
const ctx = canvas.getContext('2d')!;
let last: ViewAt | null = null, drawn = 0, aggregated = 0;

self.onmessage = async (e: MessageEvent<SceneRequest>) => {
  const m = e.data;
  if (m.t === 'sync') {
    for (const id of m.removes) index.put(id, undefined);
    for (const s of m.upserts) index.put(s.id, s);
    return;
  }
  const t0 = performance.now(), a = m.at;
  const view = Object.assign(new Viewport(), { scale: a.scale, tx: a.tx, ty: a.ty });
  const same = last && last.scale === a.scale && last.tx === a.tx && last.ty === a.ty && last.width === a.width && last.height === a.height && last.dpr === a.dpr;
  if (same && m.region) {
    // A peer's op: only where the shape was and is now, as the main-thread renderer patches its scene cache.
    ctx.setTransform(a.dpr, 0, 0, a.dpr, 0, 0);
    const [x0, y0, x1, y1] = m.region;
    renderer.draw(ctx, view, a.width, a.height, index.search(x0, y0, x1, y1), m.options, m.region);
  } else if (!same || !m.region) {
    if (canvas.width !== Math.round(a.width * a.dpr) || canvas.height !== Math.round(a.height * a.dpr)) {
      canvas.width = Math.round(a.width * a.dpr);
      canvas.height = Math.round(a.height * a.dpr);
    }
    ctx.setTransform(a.dpr, 0, 0, a.dpr, 0, 0);
    const [vx0, vy0] = view.toImage(0, 0), [vx1, vy1] = view.toImage(a.width, a.height);
    drawn = renderer.draw(ctx, view, a.width, a.height, index.search(vx0, vy0, vx1, vy1), m.options);
    aggregated = renderer.aggregated;
  }
  last = a;
  const bitmap = await createImageBitmap(canvas); // a copy: the canvas keeps this render for the next patch
  const reply: SceneReply = { bitmap, at: a, drawn, aggregated, ms: performance.now() - t0 };
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply, [bitmap]);
};
