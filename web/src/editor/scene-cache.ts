import { Viewport } from './viewport';

/**
 * Keeps the last full render of the shapes and, while the view is moving, draws that bitmap moved and scaled instead
 * of rendering 10,000 shapes again every frame; a full render happens when the shapes change, when the view has
 * drifted too far from the cached one (zoomed by more than 1.5x either way, or older than maxAgeMs), and once the
 * view settles (settleMs after the last move), so the picture is sharp again at rest.
 */
export class SceneCache {
  private readonly cache = document.createElement('canvas');
  private readonly at = new Viewport();
  private renderedAt = -Infinity;
  private valid = false;
  private settleTimer: number | undefined;

  constructor(private readonly maxAgeMs = 400, private readonly settleMs = 150) {}

  /** The shapes changed: the next frame renders them in full. */
  invalidate(): void { this.valid = false; }

  /**
   * Some shapes changed inside `region` (image pixels): redraws just that part of the cached render, when the cache
   * is for exactly this view; otherwise the next frame renders in full. `margin` (screen pixels) covers strokes and captions.
   */
  patch(view: Viewport, dpr: number, region: [number, number, number, number], render: (ctx: CanvasRenderingContext2D, region: [number, number, number, number]) => void, margin = 20): void {
    if (!this.valid || view.scale !== this.at.scale || view.tx !== this.at.tx || view.ty !== this.at.ty) { this.valid = false; return; }
    const m = margin / view.scale;
    const ctx = this.cache.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    render(ctx, [region[0] - m, region[1] - m, region[2] + m, region[3] + m]);
  }

  /**
   * Paints the shapes for `view` onto `target` (CSS-pixel coordinates, already scaled for the device pixel ratio):
   * a full render through `render` when needed, else the cached bitmap transformed. Returns whether it rendered in full.
   * `resettle` is called when a later full render would sharpen a moved bitmap.
   */
  paint(target: CanvasRenderingContext2D, view: Viewport, width: number, height: number, dpr: number,
        render: (ctx: CanvasRenderingContext2D) => void, resettle: () => void): boolean {
    const ratio = view.scale / this.at.scale;
    const now = performance.now();
    const same = this.valid && ratio === 1 && view.tx === this.at.tx && view.ty === this.at.ty;
    const usable = this.valid && ratio > 1 / 1.5 && ratio < 1.5 && now - this.renderedAt < this.maxAgeMs;
    if (!same && !usable) {
      if (this.cache.width !== Math.round(width * dpr) || this.cache.height !== Math.round(height * dpr)) {
        this.cache.width = Math.round(width * dpr);
        this.cache.height = Math.round(height * dpr);
      }
      const ctx = this.cache.getContext('2d')!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      render(ctx);
      Object.assign(this.at, { scale: view.scale, tx: view.tx, ty: view.ty });
      this.renderedAt = now;
      this.valid = true;
    }
    target.save();
    target.setTransform(1, 0, 0, 1, 0, 0);
    target.clearRect(0, 0, target.canvas.width, target.canvas.height);
    // screen = ratio * cachedScreen + (t - ratio * t0), in device pixels.
    const r = view.scale / this.at.scale;
    target.imageSmoothingEnabled = r !== 1;
    target.drawImage(this.cache, (view.tx - r * this.at.tx) * dpr, (view.ty - r * this.at.ty) * dpr, this.cache.width * r, this.cache.height * r);
    target.restore();
    const full = this.at.scale === view.scale && this.at.tx === view.tx && this.at.ty === view.ty;
    clearTimeout(this.settleTimer);
    if (!full) this.settleTimer = window.setTimeout(() => { this.valid = false; resettle(); }, this.settleMs);
    return full;
  }
}
