import type { Editor } from './editor';
import { paintPins, paintPresence } from './overlay-paint';
import { Renderer } from './renderer';
import { SceneCache } from './scene-cache';
import { ShapeIndex } from './shape-index';
import { WorkerScene, workerAbove } from './worker-scene';
import type { TileLayer } from './tiles';

/**
 * The two canvases: the base (shapes, over the <img>) repainted only when shapes, their style or the view change,
 * at most once per frame, and then only where changed shapes were and are when few changed; the overlay (tools,
 * pins, cursors) repainted when anything on it changed. What to repaint follows from store subscriptions.
 * Only the shapes in view are visited (an R-tree, ShapeIndex). Above workerAbove shapes (100,000: issue 26) they are
 * rendered in a worker instead (WorkerScene) and this thread only moves its last bitmap with the view.
 * Publishes the test hooks (web/README.md) on the canvases.
 */
export class CanvasView {
  private readonly renderer = new Renderer();
  private readonly scene = new SceneCache();
  private readonly index = new ShapeIndex();
  /** Created the first time the image has more than workerAbove shapes. */
  private worker?: WorkerScene;
  private usingWorker = false;
  /** The shapes may differ from what the index (and the worker) hold. */
  private shapesDirty = true;
  /** Bounds of every shape as last drawn, so a change repaints where the shape was and where it is now. */
  private drawnBounds = new Map<string, [number, number, number, number]>();
  /** Shapes changed since the last frame; null: too many or unknown, repaint all. */
  private patches: string[] | null = [];
  private baseDue = true;
  private overlayDue = true;
  private tilesDue = false;
  /** A large image's tiles (on their own canvas under the shapes) instead of the <img>. */
  private tiles?: { layer: TileLayer; canvas: HTMLCanvasElement };
  private frame = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(private readonly ed: Editor, private readonly base: HTMLCanvasElement, private readonly overlay: HTMLCanvasElement, private readonly photo: HTMLImageElement) {
    const store = ed.store;
    this.unsubscribe = [
      store.subscribe(s => s.shapes, ({ changed }) => this.shapesChanged(changed)),
      // What every shape's drawing depends on: the whole scene is rendered again.
      store.subscribe(s => [s.selected, s.hiddenLabels, s.hiddenShapes, s.fillOpacity, s.labels, s.preview], () => this.invalidate()),
      store.subscribe(s => s.view, () => { this.baseDue = this.overlayDue = true; this.publishView(); this.schedule(); }),
      store.subscribe(s => [s.overlay, s.comments, s.commentDraft, s.presence, s.tool, s.brushRadius, s.selected, s.preview, s.maskDraft, s.segmenting], () => { this.overlayDue = true; this.schedule(); }),
      store.subscribe(s => s.selected, selected => { base.dataset.selected = [...selected].join(','); }),
      store.subscribe(s => s.status, status => { base.dataset.status = status; }),
      store.subscribe(s => s.work?.stage, stage => { base.dataset.stage = stage ?? ''; }),
      store.subscribe(s => [s.work?.leaseHolder, s.work?.leaseExpiresAt], ([holder, until]) => { base.dataset.leaseHolder = holder ?? ''; base.dataset.leaseExpires = until ?? ''; }),
      store.subscribe(s => [s.role, s.status, s.viewing], () => { base.dataset.readOnly = String(!ed.canEdit); }),
      store.subscribe(s => s.viewing, v => { base.dataset.viewing = v ? String(v.seq) : ''; }), // a past state on show (history.ts)
      store.subscribe(s => s.connected, connected => { base.dataset.connected = String(connected); }),
      store.subscribe(s => s.role, role => { base.dataset.role = role ?? ''; }),
    ];
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.worker?.dispose();
    for (const u of this.unsubscribe) u();
  }

  /** Shows the image from its tiles from now on (the <img> is hidden). */
  useTiles(layer: TileLayer, canvas: HTMLCanvasElement): void {
    this.tiles = { layer, canvas };
    this.photo.hidden = true;
    this.resize();
  }

  /** A tile arrived: the tiles are painted again (not the shapes). */
  tileLoaded(): void {
    this.tilesDue = true;
    this.schedule();
  }

  /** The stage changed size: the canvases follow (device pixels), and everything is painted again. */
  resize(): void {
    const dpr = window.devicePixelRatio || 1, stage = this.ed.stage;
    for (const c of [this.base, this.overlay, ...(this.tiles ? [this.tiles.canvas] : [])]) {
      c.width = Math.round(stage.clientWidth * dpr);
      c.height = Math.round(stage.clientHeight * dpr);
    }
    this.invalidate();
    this.overlayDue = true;
  }

  invalidate(): void {
    this.scene.invalidate();
    this.worker?.invalidate();
    this.shapesDirty = true; // a preview's geometry or hidden shapes change what displayed() returns
    this.baseDue = true;
    this.schedule();
  }

  private shapesChanged(changed: string[] | null): void {
    this.baseDue = this.overlayDue = this.shapesDirty = true;
    if (!changed || changed.length > 50 || this.patches === null) this.patches = null;
    else this.patches.push(...changed);
    this.schedule();
  }

  private publishView(): void {
    const v = this.ed.view;
    // For tests and tools: the view transform (CSS pixels of the stage).
    Object.assign(this.base.dataset, { scale: String(v.scale), tx: String(v.tx), ty: String(v.ty) });
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.paint(); });
  }

  private paint(): void {
    const ed = this.ed, view = ed.view, state = ed.state;
    const dpr = window.devicePixelRatio || 1, w = ed.stage.clientWidth, h = ed.stage.clientHeight;
    if (this.tiles && (this.baseDue || this.tilesDue)) {
      this.tilesDue = false;
      this.tiles.layer.paint(view, w, h, dpr);
    }
    if (this.baseDue) {
      this.baseDue = false;
      const shapes = ed.displayed();
      // The image is an <img> under the canvas: the compositor scales it, the canvas only holds the shapes.
      this.photo.style.transform = `matrix(${view.scale}, 0, 0, ${view.scale}, ${view.tx}, ${view.ty})`;
      this.photo.style.imageRendering = view.scale >= 2 ? 'pixelated' : 'auto'; // pixels stay crisp when zoomed in
      let drawn = Number(this.base.dataset.drawn ?? 0), aggregated = Number(this.base.dataset.aggregated ?? 0);
      const options = { labels: state.labels, selected: state.selected, hiddenLabels: state.hiddenLabels, fillOpacity: state.fillOpacity };
      const patches = this.patches;
      this.patches = [];
      const big = shapes.size > workerAbove;
      if (big !== this.usingWorker) { this.usingWorker = big; this.scene.invalidate(); this.worker?.invalidate(); this.shapesDirty = true; }
      if (big) {
        this.worker ??= new WorkerScene(() => { this.baseDue = true; this.schedule(); });
        if (this.shapesDirty) this.worker.sync(shapes, null); // by identity, O(n) only when shapes changed
        this.shapesDirty = false;
        this.worker.paint(this.base.getContext('2d')!, view, w, h, dpr, options);
        ({ drawn, aggregated } = this.worker);
        this.base.dataset.renderer = 'worker';
      } else {
        if (this.shapesDirty) this.index.sync(shapes); // by identity: also catches a preview's or hidden shapes' change
        this.shapesDirty = false;
        const inView = (r?: [number, number, number, number]) => {
          let [x0, y0] = view.toImage(0, 0), [x1, y1] = view.toImage(w, h);
          if (r) [x0, y0, x1, y1] = [Math.max(x0, r[0]), Math.max(y0, r[1]), Math.min(x1, r[2]), Math.min(y1, r[3])];
          return this.index.search(x0, y0, x1, y1);
        };
        if (patches === null) this.scene.invalidate();
        else if (patches.length > 0) {
          let region: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
          for (const id of patches)
            for (const b of [this.drawnBounds.get(id), shapes.get(id)?.bounds])
              if (b) region = [Math.min(region[0], b[0]), Math.min(region[1], b[1]), Math.max(region[2], b[2]), Math.max(region[3], b[3])];
          if (region[0] < region[2]) this.scene.patch(view, dpr, region, (scene, r) => { this.renderer.draw(scene, view, w, h, inView(r), options, r); });
          for (const id of patches) { const b = shapes.get(id)?.bounds; if (b) this.drawnBounds.set(id, b); else this.drawnBounds.delete(id); }
        }
        this.scene.paint(this.base.getContext('2d')!, view, w, h, dpr, scene => {
          this.drawnBounds = new Map([...shapes.values()].map(s => [s.id, s.bounds]));
          drawn = this.renderer.draw(scene, view, w, h, inView(), options);
          aggregated = this.renderer.aggregated;
        }, () => this.invalidate());
        this.base.dataset.renderer = 'main';
      }
      this.base.dataset.aggregated = String(aggregated);
      Object.assign(this.base.dataset, { shapes: String(shapes.size), drawn: String(drawn), seq: String(ed.live.seq), pending: String(ed.live.pending.length) });
    }
    if (this.overlayDue) {
      this.overlayDue = false;
      const ctx = this.overlay.getContext('2d')!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ed.session.paint?.(ctx);
      paintPins(ctx, ed);
      this.overlay.dataset.comments = String(ed.live.comments.size);
      this.overlay.dataset.cursors = String(paintPresence(ctx, ed));
    }
  }
}
