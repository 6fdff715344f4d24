import type { DrawOptions } from './renderer';
import type { SceneReply, SceneRequest, ViewAt } from './scene-worker';
import type { Shape } from './shapes';
import type { Viewport } from './viewport';

/**
 * Above this many shapes the editor renders them in the scene worker: measured (docs/benchmarks.md, session 11), a
 * full render of 11,200 shapes fits the main thread's frames with SceneCache, 100,000 do not (seconds on 2 cores).
 * Below it the synchronous path keeps a selection or a peer's op on screen in the very next frame.
 */
export const workerAbove = 20_000;

/**
 * The main thread's side of the scene worker (scene-worker.ts), used instead of SceneCache when the image has more
 * shapes than a frame can render (CanvasView's workerAbove). Each frame draws the last bitmap the worker sent, moved
 * and scaled to the view (one drawImage, whatever the shape count); whenever that bitmap is stale (other view, shapes
 * or style changed) and the worker is idle, it asks for a new one. So panning and zooming stay at the display's rate
 * and the picture sharpens as soon as the worker catches up. The worker holds its own copy of the shapes, kept up to
 * date by `sync` with only what changed.
 */
export class WorkerScene {
  private readonly worker = new Worker(new URL('./scene-worker.ts', import.meta.url), { type: 'module' });
  /** The shapes as the worker holds them (same objects), to send only differences. */
  private readonly sent = new Map<string, Shape>();
  private bitmap: ImageBitmap | null = null;
  private at: ViewAt | null = null;
  private busy = false;
  private full = true;
  private region: [number, number, number, number] | null = null;
  /** Shapes in view in the last full render, and how many of them were drawn as dots (zoomed out). */
  drawn = 0;
  aggregated = 0;
  /** Worker renders so far and the last one's time (ms), for tests and the benchmark. */
  renders = 0;
  lastMs = 0;

  private movedAt = 0;
  private renderedAt = 0;
  private settleTimer: number | undefined;

  /**
   * While the view moves, a new render is asked for only when the bitmap has drifted too far (zoomed by 1.5x either
   * way, or older than maxAgeMs), and once the view settles (settleMs after the last move), as SceneCache does: on
   * 2 cores a worker rendering every frame takes the CPU the compositor needs for the pan itself.
   */
  constructor(private readonly frameArrived: () => void, private readonly maxAgeMs = 400, private readonly settleMs = 150) {
    this.worker.onmessage = (e: MessageEvent<SceneReply>) => {
      const r = e.data;
      this.bitmap?.close();
      Object.assign(this, { bitmap: r.bitmap, at: r.at, drawn: r.drawn, aggregated: r.aggregated, lastMs: r.ms, busy: false });
      this.renders++;
      this.frameArrived();
    };
  }

  dispose(): void { clearTimeout(this.settleTimer); this.worker.terminate(); this.bitmap?.close(); }

  /** The next render is a full one (style, selection or size changed). */
  invalidate(): void { this.full = true; }

  /** Sends the worker what differs from `shapes` (only the `changed` ids when given). Few changes patch a region. */
  sync(shapes: ReadonlyMap<string, Shape>, changed: readonly string[] | null): void {
    const upserts: Shape[] = [], removes: string[] = [];
    const visit = (id: string) => {
      const now = shapes.get(id), was = this.sent.get(id);
      if (now === was) return;
      if (now) { upserts.push(now); this.sent.set(id, now); } else { removes.push(id); this.sent.delete(id); }
      for (const b of [was?.bounds, now?.bounds]) if (b && this.region)
        this.region = [Math.min(this.region[0], b[0]), Math.min(this.region[1], b[1]), Math.max(this.region[2], b[2]), Math.max(this.region[3], b[3])];
    };
    if (!this.full && !this.region) this.region = [Infinity, Infinity, -Infinity, -Infinity];
    if (changed) for (const id of changed) visit(id);
    else {
      for (const id of shapes.keys()) visit(id);
      for (const id of [...this.sent.keys()]) if (!shapes.has(id)) visit(id);
    }
    if (upserts.length + removes.length > 50) this.full = true;
    if (this.region && this.region[0] > this.region[2]) this.region = null; // nothing changed
    if (upserts.length || removes.length) this.post({ t: 'sync', upserts, removes });
  }

  /** Paints the latest bitmap for `view` on `target` (device pixels) and asks for a fresher one when due. */
  paint(target: CanvasRenderingContext2D, view: Viewport, width: number, height: number, dpr: number, options: DrawOptions): void {
    const at = this.at;
    const moved = !at || at.scale !== view.scale || at.tx !== view.tx || at.ty !== view.ty || at.width !== width || at.height !== height || at.dpr !== dpr;
    const now = performance.now();
    if (moved && (!this.lastView || this.lastView.scale !== view.scale || this.lastView.tx !== view.tx || this.lastView.ty !== view.ty)) {
      this.movedAt = now;
      clearTimeout(this.settleTimer);
      this.settleTimer = window.setTimeout(() => this.frameArrived(), this.settleMs);
    }
    this.lastView = { scale: view.scale, tx: view.tx, ty: view.ty };
    const ratio = at ? view.scale / at.scale : 1;
    const due = !at || at.width !== width || at.height !== height || at.dpr !== dpr || ratio > 1.5 || ratio < 1 / 1.5
      || now - this.renderedAt > this.maxAgeMs || now - this.movedAt >= this.settleMs;
    if (!this.busy && (this.full || this.region || (moved && due))) {
      // A patch only for the view the worker last drew; 20 screen pixels of margin for strokes and captions.
      const m = 20 / view.scale, r = this.region;
      const region: [number, number, number, number] | null = this.full || moved || !r ? null : [r[0] - m, r[1] - m, r[2] + m, r[3] + m];
      this.post({ t: 'render', at: { scale: view.scale, tx: view.tx, ty: view.ty, width, height, dpr }, options, region });
      this.busy = true;
      this.renderedAt = now;
      this.full = false;
      this.region = null;
    }
    target.save();
    target.setTransform(1, 0, 0, 1, 0, 0);
    target.clearRect(0, 0, target.canvas.width, target.canvas.height);
    if (this.bitmap && at) {
      // screen = r * bitmapScreen + (t - r * t0), in device pixels.
      const r = view.scale / at.scale;
      target.imageSmoothingEnabled = r !== 1;
      target.drawImage(this.bitmap, (view.tx - r * at.tx) * dpr, (view.ty - r * at.ty) * dpr, this.bitmap.width * r * (dpr / at.dpr), this.bitmap.height * r * (dpr / at.dpr));
    }
    target.restore();
  }

  /** Whether the bitmap on screen is the render of this view (nothing pending). */
  settled(view: Viewport): boolean {
    const at = this.at;
    return !this.busy && !this.full && !this.region && !!at && at.scale === view.scale && at.tx === view.tx && at.ty === view.ty;
  }

  private lastView: { scale: number; tx: number; ty: number } | null = null;

  private post(m: SceneRequest): void { this.worker.postMessage(m); }
}
