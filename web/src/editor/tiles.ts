import type { Viewport } from './viewport';

/** What a Deep Zoom descriptor says (GET /api/images/{id}/tiles.dzi). */
export interface DeepZoom { width: number; height: number; tileSize: number; overlap: number }

export async function readDeepZoom(imageId: string): Promise<DeepZoom> {
  const response = await fetch(`/api/images/${imageId}/tiles.dzi`);
  if (!response.ok) throw new Error(`the image's tiles are not ready (${response.status})`);
  const xml = new DOMParser().parseFromString(await response.text(), 'application/xml');
  const root = xml.documentElement, size = root.getElementsByTagName('Size')[0];
  return { width: Number(size.getAttribute('Width')), height: Number(size.getAttribute('Height')), tileSize: Number(root.getAttribute('TileSize')), overlap: Number(root.getAttribute('Overlap')) };
}

/** Decoded tiles kept at least (256 × 256 × 4 bytes each: about 64 MB), or twice what the view holds; the least recently drawn evicted first. */
const Budget = 256;
/** Tile requests in flight at once. */
const Parallel = 6;

/**
 * A large image drawn from its pyramid's tiles (issue 26) on a canvas under the shapes: at each paint, the level whose
 * resolution the zoom needs (one tile pixel per device pixel or finer), only the tiles in view plus half a tile around,
 * fetched six at a time (what the latest view wants; a pan or zoom drops the rest); while a tile is missing, the coarser levels already loaded show through (the lowest levels,
 * up to a screenful, are loaded first as a backdrop). Decoded tiles are kept in a budget, least recently drawn evicted.
 * Shapes stay in full-resolution image coordinates: only the picture changes with the level.
 */
export class TileLayer {
  private readonly maxLevel: number;
  private readonly cache = new Map<string, ImageBitmap>(); // insertion order = recency
  private readonly loading = new Set<string>();
  private readonly queue: { key: string; level: number; col: number; row: number }[] = [];
  private backdropLevel = 0;
  /** Tiles of the wanted level the last view covered. */
  private inView = 0;
  private disposed = false;
  /** For tests and the viewer bench: the level and the tiles of the last paint (data-tiles of data-wanted drawn). */
  lastLevel = 0;
  lastDrawn = 0;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly imageId: string, readonly dz: DeepZoom, private readonly changed: () => void) {
    this.maxLevel = Math.ceil(Math.log2(Math.max(dz.width, dz.height)));
  }

  /** Loads the backdrop: the highest level that fits in about a screenful of tiles (a few requests). */
  async start(): Promise<void> {
    let level = 0;
    while (level < this.maxLevel && this.tileCount(level + 1) <= 16) level++;
    this.backdropLevel = level;
    const [cols, rows] = this.grid(level);
    const loads: Promise<void>[] = [];
    for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) loads.push(this.load(level, c, r));
    await Promise.allSettled(loads); // a missing backdrop tile leaves a gap, not an editor that cannot open
  }

  dispose(): void {
    this.disposed = true;
    for (const b of this.cache.values()) b.close();
    this.cache.clear();
  }

  private levelScale(level: number): number { return 2 ** (level - this.maxLevel); }

  private grid(level: number): [number, number] {
    const s = this.levelScale(level), t = this.dz.tileSize;
    return [Math.ceil(Math.ceil(this.dz.width * s) / t), Math.ceil(Math.ceil(this.dz.height * s) / t)];
  }

  private tileCount(level: number): number { const [c, r] = this.grid(level); return c * r; }

  /** The level for this zoom: the coarsest whose pixels are no larger than a device pixel. */
  levelFor(scale: number, dpr: number): number {
    const wanted = Math.ceil(this.maxLevel + Math.log2(Math.max(1e-9, scale * dpr)));
    return Math.max(this.backdropLevel, Math.min(this.maxLevel, wanted));
  }

  paint(view: Viewport, width: number, height: number, dpr: number): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
    ctx.imageSmoothingEnabled = view.scale < 2; // pixels stay crisp when zoomed in
    // The image region in view, in full-resolution pixels.
    const x0 = -view.tx / view.scale, y0 = -view.ty / view.scale, x1 = (width - view.tx) / view.scale, y1 = (height - view.ty) / view.scale;
    const level = this.levelFor(view.scale, dpr);
    this.queue.length = 0; // only what this view wants is fetched: a pan or zoom drops the rest
    this.drawLevel(ctx, this.backdropLevel, x0, y0, x1, y1, false);
    // Intermediate levels already loaded fill in while the wanted one arrives.
    for (let l = this.backdropLevel + 1; l < level; l++) this.drawLevel(ctx, l, x0, y0, x1, y1, false);
    this.lastDrawn = this.drawLevel(ctx, level, x0, y0, x1, y1, true);
    this.lastLevel = level;
    Object.assign(this.canvas.dataset, { level: String(level), maxLevel: String(this.maxLevel), tiles: String(this.lastDrawn), wanted: String(this.inView), cached: String(this.cache.size) });
    this.pump();
  }

  /** Draws the level's loaded tiles over the region (and asks for the missing ones when `fetch`); returns how many were drawn. */
  private drawLevel(ctx: CanvasRenderingContext2D, level: number, x0: number, y0: number, x1: number, y1: number, fetch: boolean): number {
    const s = this.levelScale(level), t = this.dz.tileSize, o = this.dz.overlap, margin = fetch ? t / 2 : 0;
    const [cols, rows] = this.grid(level);
    const c0 = Math.max(0, Math.floor((x0 * s - margin) / t)), c1 = Math.min(cols - 1, Math.floor((x1 * s + margin) / t));
    const r0 = Math.max(0, Math.floor((y0 * s - margin) / t)), r1 = Math.min(rows - 1, Math.floor((y1 * s + margin) / t));
    let drawn = 0;
    for (let r = r0; r <= r1; r++)
      for (let c = c0; c <= c1; c++) {
        const key = `${level}/${c}_${r}`;
        const bitmap = this.cache.get(key);
        if (bitmap) {
          this.cache.delete(key); this.cache.set(key, bitmap); // most recently drawn
          // A tile's first pixel is its column's start less the overlap (none at the left and top edges).
          const px = c * t - (c > 0 ? o : 0), py = r * t - (r > 0 ? o : 0);
          ctx.drawImage(bitmap, px / s, py / s, bitmap.width / s, bitmap.height / s);
          drawn++;
        } else if (fetch && !this.loading.has(key)) this.queue.push({ key, level, col: c, row: r });
      }
    if (fetch) this.inView = (c1 - c0 + 1) * (r1 - r0 + 1);
    return drawn;
  }

  /** Starts queued loads up to the parallel limit (the queue holds the latest paint's wants only). */
  private pump(): void {
    while (this.loading.size < Parallel && this.queue.length) {
      const next = this.queue.pop()!;
      this.load(next.level, next.col, next.row).then(() => { if (!this.disposed) this.changed(); }, () => {});
    }
  }

  private async load(level: number, col: number, row: number): Promise<void> {
    const key = `${level}/${col}_${row}`;
    if (this.cache.has(key) || this.loading.has(key)) return;
    this.loading.add(key);
    try {
      const response = await fetch(`/api/images/${this.imageId}/tiles/${key}.jpg`);
      if (!response.ok) throw new Error(`tile ${key}: ${response.status}`);
      const bitmap = await createImageBitmap(await response.blob());
      if (this.disposed) { bitmap.close(); return; }
      this.cache.set(key, bitmap);
      // Over budget: the least recently drawn go, never the backdrop (it is what shows through).
      // The budget never drops below twice what the view holds (a large HiDPI screen shows more than 256 tiles).
      const budget = Math.max(Budget, 2 * this.inView);
      for (const [k, b] of this.cache) {
        if (this.cache.size <= budget) break;
        if (k.startsWith(`${this.backdropLevel}/`)) continue;
        b.close();
        this.cache.delete(k);
      }
    } finally {
      this.loading.delete(key);
      if (!this.disposed) this.pump();
    }
  }
}
