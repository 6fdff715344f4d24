import { html, render } from 'lit';
import { api, ImageInfo, Label, Project } from '../api';
import { navigate } from '../main';
import { toast } from '../toast';
import { atLeast, projectRole, Role } from '../session';
import { hitTest, Shape } from './shapes';
import { LiveImage } from './live';
import { Renderer } from './renderer';
import { SceneCache } from './scene-cache';
import { MaskPainter } from './mask-painter';
import { traceRings } from './trace';
import type { Mask } from '../api';
import { deleteVertex, dragHandle, handleAt, handles, insertVertex, move } from './editing';
import type { GeometryJson } from '../api';
import { bounds } from './shapes';
import { Viewport } from './viewport';

type Tool = 'select' | 'box' | 'polygon' | 'brush' | 'eraser' | 'comment';

/** Every shortcut, as the ? overlay lists it. */
const shortcuts: [string, string][] = [
  ['V', 'select tool: click a shape to select it (Shift adds), drag it to move it, drag its handles to reshape it; drag on empty space to pan'],
  ['Double-click an edge', 'insert a polygon vertex (select tool)'],
  ['Alt+click a vertex', 'delete a polygon vertex'],
  ['B', 'box tool: drag to draw a box with the current label'],
  ['P', 'polygon tool: click the points; Enter or double-click closes it, Backspace removes the last point'],
  ['M / E', 'mask brush / eraser: paint on the selected mask, or a new one; [ and ] change the size'],
  ['C', 'comment tool: click to pin a comment on the image'],
  ['← / →', 'previous / next image of the project'],
  ['1 … 9', 'current label (and the selected shape\'s label)'],
  ['Tab / Shift+Tab', 'select the next / previous proposal (highest score first)'],
  ['A / R', 'accept / reject the selected proposal'],
  ['Shift+drag on empty space', 'select every shape inside the rectangle (select tool)'],
  ['H / Shift+H', 'hide the selected shapes / show every hidden shape'],
  ['K', 'convert the selected polygon to a mask, or a mask to its polygon outline'],
  ['Shift+A', 'accept every proposal at or above the score slider'],
  ['Delete', 'delete the selected shape'],
  ['Ctrl+Z / Ctrl+Shift+Z', 'undo / redo your own last change'],
  ['F', 'fit the image'],
  ['Wheel', 'zoom at the cursor'],
  ['Space+drag, middle drag', 'pan'],
  ['Esc', 'cancel the drawing, clear the selection'],
  ['?', 'this help'],
];

/**
 * The editor: the image on a canvas with every shape, live with everyone else on the image. The base canvas holds
 * the image and shapes and is redrawn only when they or the view change; cursors and the shape being drawn are on
 * an overlay, so a cursor moving never repaints the shapes.
 */
export class EditorPage {
  private readonly view = new Viewport();
  private readonly renderer = new Renderer();
  private readonly scene = new SceneCache();
  /** Bounds of every shape as last drawn, so a change repaints where the shape was and where it is now. */
  private drawnBounds = new Map<string, [number, number, number, number]>();
  private patches: string[] | null = [];
  private readonly live: LiveImage;
  private readonly base: HTMLCanvasElement;
  private readonly overlay: HTMLCanvasElement;
  private readonly stage: HTMLDivElement;
  private readonly side: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly photo: HTMLImageElement;
  private info: ImageInfo | undefined;
  private project: Project | undefined;
  private labels = new Map<string, Label>();
  private currentLabel = '';
  private tool: Tool = 'select';
  private selected = new Set<string>();
  private hiddenLabels = new Set<string>();
  private fillOpacity = 0.15;
  private scoreThreshold = 0.5;
  private drag: { kind: 'pan' | 'box' | 'band'; x0: number; y0: number; x: number; y: number } | null = null;
  private hiddenShapes = new Set<string>();
  /** The polygon being drawn, in image pixels (x0, y0, x1, y1, …), and the cursor for its rubber band. */
  private draft: number[] | null = null;
  private cursor: [number, number] | null = null;
  /** The mask being painted (one stroke at a time; each stroke is one op) and the brush radius in image pixels. */
  private painting: { id: string | null; painter: MaskPainter } | null = null;
  private brushRadius = 12;
  /** A shape being moved or reshaped: its geometry as dragged so far, shown at once and sent on release. */
  private edit: { id: string; handle: number | null; x0: number; y0: number; preview: GeometryJson | null } | null = null;
  private status = '';
  private neighbours: string[] = [];
  private spaceDown = false;
  private helpOpen = false;
  private baseDirty = true;
  private overlayDirty = true;
  private frame = 0;
  private readonly cleanup: (() => void)[] = [];
  /** The caller's role in the project: what the page offers (the server checks every action regardless). */
  private role: Role | undefined;
  private get canEdit() { return atLeast(this.role, 'annotator'); }
  private get canReview() { return atLeast(this.role, 'reviewer'); }

  constructor(root: HTMLElement, private readonly imageId: string, private readonly user: string) {
    root.innerHTML = `<div class="editor"><div class="bar"></div><div class="stage" tabindex="0"><img class="photo" alt="" draggable="false" /><canvas class="base" aria-label="image and annotations"></canvas><canvas class="overlay"></canvas></div><div class="side"></div></div>`;
    this.bar = root.querySelector('.bar')!;
    this.stage = root.querySelector('.stage')!;
    this.base = root.querySelector('canvas.base')!;
    this.overlay = root.querySelector('canvas.overlay')!;
    this.side = root.querySelector('.side')!;
    this.photo = root.querySelector('img.photo')!;
    this.live = new LiveImage(imageId, user);
    this.live.onChange = changed => { this.shapesChanged(changed); this.overlayDirty = true; this.panel(); this.schedule(); };
    this.live.onPresence = () => { this.overlayDirty = true; this.panel(); this.schedule(); };
    this.live.onStatus = connected => { this.base.dataset.connected = String(connected); this.panel(); if (!connected) toast('Connection lost: keep working, your edits are sent when it is back'); else toast('Connected'); };
    this.live.onRejected = reason => toast(`Not applied: ${reason}`, true);
    this.live.onReview = event => {
      const [kind, status, by] = event.split(':');
      if (kind === 'status') { this.status = status; this.base.dataset.status = status; if (by !== this.user) toast(`${by} set the image to ${status}`); }
      else if (kind === 'comment' && status && status !== this.user) toast(`${status} added a comment`);
      this.overlayDirty = true;
      this.panel();
      this.schedule();
    };
    this.listen();
    this.open().catch(err => toast(`Cannot open the image: ${(err as Error).message}`, true));
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    for (const c of this.cleanup) c();
    this.live.stop();
  }

  private async open(): Promise<void> {
    this.info = await api.image(this.imageId);
    this.status = this.info.status;
    api.images(this.info.projectId, 0, 1000).then(page => { this.neighbours = page.items.map(i => i.id); this.panel(); }).catch(() => {});
    // The live connection is not waited for to show the image: a page that cannot reach the hub still shows it,
    // says it is offline, and keeps trying.
    const live = this.live.start().catch(() => { toast('Cannot reach the live server: retrying', true); return this.live.retry(); });
    const [project, role] = await Promise.all([api.project(this.info.projectId), projectRole(this.info.projectId), this.loadImage()]);
    this.role = role;
    this.live.readOnly = !this.canEdit;
    this.base.dataset.role = role ?? '';
    this.project = project;
    this.labels = new Map(project.labels.map(l => [l.id, l]));
    this.currentLabel = project.labels[0]?.id ?? '';
    this.resize();
    this.fit();
    this.panel();
    this.stage.focus();
    await live;
    this.base.dataset.ready = 'true'; // image fitted and the server's shapes loaded
    this.invalidateScene();
    this.schedule();
  }

  private loadImage(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.photo.onload = () => { this.invalidateScene(); this.schedule(); resolve(); };
      this.photo.onerror = () => reject(new Error('the image file could not be loaded'));
      this.photo.src = `/api/images/${this.imageId}/original`;
    });
  }

  private fit(): void {
    if (!this.info) return;
    this.view.fit(this.info.width, this.info.height, this.stage.clientWidth, this.stage.clientHeight);
    this.viewChanged();
  }

  private viewChanged(): void {
    this.baseDirty = true; // the scene cache decides whether a full render is needed
    this.overlayDirty = true;
    // For tests and tools: the view transform (CSS pixels of the stage) and what is on screen.
    Object.assign(this.base.dataset, { scale: String(this.view.scale), tx: String(this.view.tx), ty: String(this.view.ty) });
    this.schedule();
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.overlay]) {
      c.width = Math.round(this.stage.clientWidth * dpr);
      c.height = Math.round(this.stage.clientHeight * dpr);
    }
    this.baseDirty = this.overlayDirty = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.paint(); });
  }

  private paint(): void {
    const dpr = window.devicePixelRatio || 1, w = this.stage.clientWidth, h = this.stage.clientHeight;
    if (this.baseDirty) {
      const ctx = this.base.getContext('2d')!;
      const shapes = this.displayed();
      // The image is an <img> under the canvas: the compositor scales it, the canvas only holds the shapes.
      this.photo.style.transform = `matrix(${this.view.scale}, 0, 0, ${this.view.scale}, ${this.view.tx}, ${this.view.ty})`;
      this.photo.style.imageRendering = this.view.scale >= 2 ? 'pixelated' : 'auto'; // pixels stay crisp when zoomed in
      let drawn = Number(this.base.dataset.drawn ?? 0);
      const options = { labels: this.labels, selected: this.selected, hiddenLabels: this.hiddenLabels, fillOpacity: this.fillOpacity };
      const patches = this.patches;
      this.patches = [];
      if (patches === null) this.scene.invalidate();
      else if (patches.length > 0) {
        let region: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
        for (const id of patches)
          for (const b of [this.drawnBounds.get(id), shapes.get(id)?.bounds])
            if (b) region = [Math.min(region[0], b[0]), Math.min(region[1], b[1]), Math.max(region[2], b[2]), Math.max(region[3], b[3])];
        if (region[0] < region[2]) this.scene.patch(this.view, dpr, region, (scene, r) => { this.renderer.draw(scene, this.view, w, h, shapes.values(), options, r); });
        for (const id of patches) { const b = shapes.get(id)?.bounds; if (b) this.drawnBounds.set(id, b); else this.drawnBounds.delete(id); }
      }
      this.scene.paint(ctx, this.view, w, h, dpr, scene => {
        this.drawnBounds = new Map([...shapes.values()].map(s => [s.id, s.bounds]));
        drawn = this.renderer.draw(scene, this.view, w, h, shapes.values(), options);
      }, () => { this.invalidateScene(); this.schedule(); });
      Object.assign(this.base.dataset, { shapes: String(shapes.size), drawn: String(drawn), seq: String(this.live.seq), pending: String(this.live.pending.length) });
      this.baseDirty = false;
    }
    if (this.overlayDirty) {
      const ctx = this.overlay.getContext('2d')!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      this.paintOverlay(ctx);
      this.overlayDirty = false;
    }
  }

  /** Something every shape's drawing depends on changed (selection, style, size): the next frame renders all. */
  private invalidateScene(): void {
    this.baseDirty = true;
    this.scene.invalidate();
  }

  /** A few shapes changed: repaint their old and new places on the next frame; many (or unknown): repaint all. */
  private shapesChanged(changed?: string[]): void {
    this.baseDirty = true;
    if (!changed || changed.length > 50 || this.patches === null) { this.patches = null; return; }
    this.patches.push(...changed);
  }

  /** The live shapes, with the one being dragged at its dragged geometry. */
  private displayed(): Map<string, Shape> {
    let shapes = this.live.shapes();
    if (this.hiddenShapes.size > 0) { shapes = new Map(shapes); for (const id of this.hiddenShapes) shapes.delete(id); }
    if (this.painting?.id) { const view = new Map(shapes); view.delete(this.painting.id); return view; } // on the overlay while painted
    const preview = this.edit?.preview;
    const current = this.edit ? shapes.get(this.edit.id) : undefined;
    if (!preview || !current) return shapes;
    const view = new Map(shapes);
    view.set(current.id, { ...current, geometry: preview, bounds: bounds(current.kind, preview) });
    return view;
  }

  private paintOverlay(ctx: CanvasRenderingContext2D): void {
    if (this.painting) {
      ctx.save();
      ctx.globalAlpha = 0.5;
      ctx.setTransform(ctx.getTransform().multiply(new DOMMatrix([this.view.scale, 0, 0, this.view.scale, this.view.tx, this.view.ty])));
      ctx.drawImage(this.painting.painter.canvas, 0, 0);
      ctx.restore();
    }
    if ((this.tool === 'brush' || this.tool === 'eraser') && this.cursor) {
      const [sx, sy] = this.view.toScreen(...this.cursor);
      ctx.strokeStyle = this.tool === 'eraser' ? '#ff5a5f' : '#fff';
      ctx.beginPath(); ctx.arc(sx, sy, this.brushRadius * this.view.scale, 0, Math.PI * 2); ctx.stroke();
    }
    if (this.tool === 'select' && this.selected.size === 1) {
      const s = this.displayed().get([...this.selected][0]);
      if (s) {
        ctx.fillStyle = '#fff';
        ctx.strokeStyle = '#000';
        for (const h of handles(s)) {
          const [x, y] = this.view.toScreen(h.x, h.y);
          ctx.fillRect(x - 4, y - 4, 8, 8);
          ctx.strokeRect(x - 4, y - 4, 8, 8);
        }
      }
    }
    if (this.drag?.kind === 'band') {
      ctx.strokeStyle = '#9ad';
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(this.drag.x0, this.drag.y0, this.drag.x - this.drag.x0, this.drag.y - this.drag.y0);
      ctx.setLineDash([]);
    }
    if (this.drag?.kind === 'box') {
      const [x0, y0] = this.view.toScreen(...this.view.toImage(this.drag.x0, this.drag.y0));
      ctx.strokeStyle = this.labels.get(this.currentLabel)?.color ?? '#fff';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(x0, y0, this.drag.x - this.drag.x0, this.drag.y - this.drag.y0);
    }
    if (this.draft && this.draft.length >= 2) {
      ctx.strokeStyle = this.labels.get(this.currentLabel)?.color ?? '#fff';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let i = 0; i + 1 < this.draft.length; i += 2) {
        const [sx, sy] = this.view.toScreen(this.draft[i], this.draft[i + 1]);
        if (i === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillRect(sx - 3, sy - 3, 6, 6);
      }
      if (this.cursor) ctx.lineTo(...this.view.toScreen(...this.cursor));
      ctx.stroke();
    }
    let pin = 0;
    for (const c of this.live.comments.values()) {
      pin++;
      const [sx, sy] = this.view.toScreen(c.x, c.y);
      ctx.fillStyle = c.resolved ? '#5b6573' : '#ffb020';
      ctx.beginPath(); ctx.arc(sx, sy - 10, 9, 0, Math.PI * 2); ctx.fill();
      ctx.beginPath(); ctx.moveTo(sx - 5, sy - 5); ctx.lineTo(sx, sy); ctx.lineTo(sx + 5, sy - 5); ctx.fill();
      ctx.fillStyle = '#000'; ctx.font = 'bold 11px system-ui'; ctx.textAlign = 'center'; ctx.fillText(String(pin), sx, sy - 6); ctx.textAlign = 'start';
    }
    this.overlay.dataset.comments = String(this.live.comments.size);
    const shapes = this.live.shapes();
    let cursors = 0;
    for (const [connection, p] of this.live.presence) {
      const who = this.live.participants.get(connection);
      if (!who) continue;
      for (const id of [...(p.selection ?? []), ...(p.editing ? [p.editing] : [])]) {
        const s = shapes.get(id);
        if (!s) continue;
        const [x0, y0] = this.view.toScreen(s.bounds[0], s.bounds[1]), [x1, y1] = this.view.toScreen(s.bounds[2], s.bounds[3]);
        ctx.strokeStyle = who.color;
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(x0 - 3, y0 - 3, x1 - x0 + 6, y1 - y0 + 6);
        ctx.setLineDash([]);
        if (p.editing === id) { ctx.fillStyle = who.color; ctx.font = '12px system-ui'; ctx.fillText(`${who.name} is editing`, x0, y0 - 6); }
      }
      if (!p.cursor) continue;
      cursors++;
      const [sx, sy] = this.view.toScreen(p.cursor.x, p.cursor.y);
      ctx.fillStyle = who.color;
      ctx.beginPath();
      ctx.moveTo(sx, sy); ctx.lineTo(sx + 12, sy + 4); ctx.lineTo(sx + 4, sy + 12); ctx.closePath(); ctx.fill();
      ctx.font = '12px system-ui';
      ctx.fillText(who.name, sx + 12, sy + 22);
    }
    this.overlay.dataset.cursors = String(cursors);
  }

  private listen(): void {
    const on = <K extends keyof HTMLElementEventMap>(target: HTMLElement | Window, type: K, handler: (e: HTMLElementEventMap[K]) => void, options?: AddEventListenerOptions) => {
      target.addEventListener(type, handler as EventListener, options);
      this.cleanup.push(() => target.removeEventListener(type, handler as EventListener, options));
    };
    on(window, 'resize', () => { this.resize(); this.viewChanged(); });
    on(window, 'keydown', e => this.key(e));
    on(window, 'keyup', e => { if (e.key === ' ') this.spaceDown = false; });
    on(this.stage, 'wheel', e => {
      e.preventDefault();
      const r = this.stage.getBoundingClientRect();
      this.view.zoomAt(e.clientX - r.left, e.clientY - r.top, Math.pow(1.2, -Math.sign(e.deltaY)));
      this.viewChanged();
    }, { passive: false });
    on(this.stage, 'pointerdown', e => this.down(e));
    on(this.stage, 'pointermove', e => this.move(e));
    on(this.stage, 'pointerup', e => this.up(e));
    on(this.stage, 'auxclick', e => e.preventDefault());
    on(this.stage, 'dblclick', e => {
      if (this.tool === 'polygon' && this.draft) { this.closeDraft(); return; }
      if (this.tool !== 'select' || this.selected.size !== 1) return;
      const s = this.live.shapes().get([...this.selected][0]);
      const r = this.stage.getBoundingClientRect();
      const [ix, iy] = this.view.toImage(e.clientX - r.left, e.clientY - r.top);
      const g = s && insertVertex(s, ix, iy, 6 / this.view.scale);
      if (s && g) { this.live.update(s.id, { geometry: g }); toast('Vertex inserted'); }
    });
  }

  private local(e: PointerEvent): [number, number] {
    const r = this.stage.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private down(e: PointerEvent): void {
    this.stage.focus();
    const [x, y] = this.local(e);
    this.stage.setPointerCapture(e.pointerId);
    if (e.button === 1 || (e.button === 0 && this.spaceDown)) { this.drag = { kind: 'pan', x0: x, y0: y, x, y }; e.preventDefault(); return; }
    if (e.button !== 0) return;
    if (this.tool === 'box') { this.drag = { kind: 'box', x0: x, y0: y, x, y }; return; }
    const [ix, iy] = this.view.toImage(x, y);
    if (this.tool === 'polygon') {
      this.draft = [...(this.draft ?? []), round(clampTo(ix, this.info!.width)), round(clampTo(iy, this.info!.height))];
      this.overlayDirty = true;
      this.schedule();
      return;
    }
    if (this.tool === 'comment') { this.comment(ix, iy); return; }
    if (this.tool === 'brush' || this.tool === 'eraser') { this.startStroke(ix, iy); return; }
    if (this.selected.size === 1 && !e.shiftKey) {
      const s = this.live.shapes().get([...this.selected][0]);
      const h = s && handleAt(s, ix, iy, 6 / this.view.scale);
      if (s && h) {
        if (e.altKey) {
          const g = deleteVertex(s, h.index);
          if (g) { this.live.update(s.id, { geometry: g }); toast('Vertex deleted'); } else toast('A polygon keeps at least 3 points', true);
          return;
        }
        if (this.canEdit) this.edit = { id: s.id, handle: h.index, x0: ix, y0: iy, preview: null };
        return;
      }
    }
    // On the selected polygon's outline counts as on the polygon (a double-click there inserts a vertex).
    const selectedShape = this.selected.size === 1 ? this.live.shapes().get([...this.selected][0]) : undefined;
    const onOutline = selectedShape && insertVertex(selectedShape, ix, iy, 6 / this.view.scale) ? selectedShape : undefined;
    const hit = onOutline ?? hitTest(this.live.shapes().values(), ix, iy, s => !this.hiddenLabels.has(s.labelId));
    if (hit) {
      if (e.shiftKey) { if (this.selected.has(hit.id)) this.selected.delete(hit.id); else this.selected.add(hit.id); }
      else {
        this.selected = new Set([hit.id]);
        if (this.canEdit) this.edit = { id: hit.id, handle: null, x0: ix, y0: iy, preview: null }; // dragging it moves it
      }
    } else if (e.shiftKey) {
      this.drag = { kind: 'band', x0: x, y0: y, x, y }; // shift+drag on empty space: rubber-band selection
    } else {
      this.selected.clear();
      this.drag = { kind: 'pan', x0: x, y0: y, x, y }; // drag on empty space pans
    }
    this.selectionChanged();
  }

  private move(e: PointerEvent): void {
    const [x, y] = this.local(e);
    const [ix, iy] = this.view.toImage(x, y);
    this.live.sendPresence({ cursor: { x: ix, y: iy }, selection: [...this.selected], tool: this.tool });
    this.cursor = [ix, iy];
    if (this.draft || this.tool === 'brush' || this.tool === 'eraser') { this.overlayDirty = true; this.schedule(); }
    if (this.painting && e.buttons & 1) { this.painting.painter.stroke(ix, iy, this.brushRadius, this.tool === 'eraser'); return; }
    if (this.edit && this.info) {
      const s = this.live.shapes().get(this.edit.id);
      if (!s) { this.edit = null; return; }
      const moved = Math.hypot(ix - this.edit.x0, iy - this.edit.y0) * this.view.scale > 2;
      if (!moved && !this.edit.preview) return;
      this.edit.preview = this.edit.handle !== null
        ? dragHandle(s, this.edit.handle, ix, iy, this.info.width, this.info.height)
        : move(s, ix - this.edit.x0, iy - this.edit.y0, this.info.width, this.info.height);
      this.live.sendPresence({ cursor: { x: ix, y: iy }, selection: [...this.selected], tool: this.tool, editing: s.id });
      this.invalidateScene();
      this.overlayDirty = true;
      this.schedule();
      return;
    }
    if (!this.drag) return;
    if (this.drag.kind === 'pan') { this.view.pan(x - this.drag.x, y - this.drag.y); this.viewChanged(); }
    this.drag.x = x; this.drag.y = y;
    this.overlayDirty = true;
    this.schedule();
  }

  private up(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    if (this.painting) { this.finishStroke(); return; }
    const edit = this.edit;
    this.edit = null;
    if (edit?.preview) {
      this.live.update(edit.id, { geometry: edit.preview }); // one op per drag
      this.live.sendPresence({ selection: [...this.selected], tool: this.tool, editing: null });
    }
    if (this.stage.hasPointerCapture(e.pointerId)) this.stage.releasePointerCapture(e.pointerId);
    this.overlayDirty = true;
    this.schedule();
    if (drag?.kind === 'band') {
      const [ax, ay] = this.view.toImage(drag.x0, drag.y0), [bx, by] = this.view.toImage(drag.x, drag.y);
      const [x0, x1, y0, y1] = [Math.min(ax, bx), Math.max(ax, bx), Math.min(ay, by), Math.max(ay, by)];
      for (const s of this.displayed().values())
        if (!this.hiddenLabels.has(s.labelId) && s.bounds[0] >= x0 && s.bounds[2] <= x1 && s.bounds[1] >= y0 && s.bounds[3] <= y1) this.selected.add(s.id);
      toast(`${this.selected.size} shape(s) selected`);
      this.selectionChanged();
      return;
    }
    if (drag?.kind !== 'box' || !this.info) return;
    const [ax, ay] = this.view.toImage(drag.x0, drag.y0), [bx, by] = this.view.toImage(drag.x, drag.y);
    const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
    const x0 = clamp(Math.min(ax, bx), this.info.width), x1 = clamp(Math.max(ax, bx), this.info.width);
    const y0 = clamp(Math.min(ay, by), this.info.height), y1 = clamp(Math.max(ay, by), this.info.height);
    if ((x1 - x0) * this.view.scale < 3 || (y1 - y0) * this.view.scale < 3) return; // a click, not a box
    if (!this.currentLabel) { toast('The project has no labels: add one first', true); return; }
    const id = crypto.randomUUID();
    this.live.create(id, { labelId: this.currentLabel, kind: 'box', geometry: { x: round(x0), y: round(y0), width: round(x1 - x0), height: round(y1 - y0) } });
    this.selected = new Set([id]);
    this.selectionChanged();
  }

  private key(e: KeyboardEvent): void {
    if ((e.target as HTMLElement).closest('input, select, textarea')) return;
    const k = e.key.toLowerCase();
    if (e.key === ' ') { this.spaceDown = true; e.preventDefault(); return; }
    if ((e.ctrlKey || e.metaKey) && k === 'z') { e.preventDefault(); this.undo(e.shiftKey); return; }
    if ((e.ctrlKey || e.metaKey) && k === 'y') { e.preventDefault(); this.undo(true); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '?') { this.helpOpen = !this.helpOpen; this.panel(); return; }
    if (e.key === 'Escape') { this.drag = null; this.draft = null; this.helpOpen = false; this.selected.clear(); this.selectionChanged(); return; }
    if (this.draft && e.key === 'Enter') { this.closeDraft(); e.preventDefault(); return; }
    if (this.draft && e.key === 'Backspace') { this.draft = this.draft.slice(0, -2); if (this.draft.length === 0) this.draft = null; this.overlayDirty = true; this.schedule(); e.preventDefault(); return; }
    if (e.key === 'Tab') { this.nextProposal(e.shiftKey ? -1 : 1); e.preventDefault(); return; }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') { this.step(e.key === 'ArrowRight' ? 1 : -1); e.preventDefault(); return; }
    if (k === 'b') this.setTool('box');
    else if (k === 'p') this.setTool('polygon');
    else if (k === 'c') this.setTool('comment');
    else if (k === 'h' && e.shiftKey) { toast(`${this.hiddenShapes.size} hidden shape(s) shown`); this.hiddenShapes.clear(); this.shapesChanged(); this.schedule(); }
    else if (k === 'h') { for (const id of this.selected) this.hiddenShapes.add(id); toast(`${this.selected.size} shape(s) hidden (Shift+H shows them)`); this.selected.clear(); this.selectionChanged(); }
    else if (k === 'k') this.convert();
    else if (k === 'm') this.setTool('brush');
    else if (k === 'e') this.setTool('eraser');
    else if (e.key === '[' || e.key === ']') { this.brushRadius = Math.max(1, Math.min(300, Math.round(this.brushRadius * (e.key === ']' ? 1.25 : 0.8)))); toast(`Brush ${this.brushRadius} px`); this.panel(); this.overlayDirty = true; this.schedule(); }
    else if (k === 'v') this.setTool('select');
    else if (k === 'f') this.fit();
    else if (e.key === 'Delete' || e.key === 'Backspace') this.deleteSelected();
    else if (k === 'a' && e.shiftKey) this.acceptAbove();
    else if (k === 'a') this.setState('accepted');
    else if (k === 'r') this.setState('rejected');
    else if (/^[1-9]$/.test(e.key)) this.pickLabel(Number(e.key) - 1);
    else return;
    e.preventDefault();
  }

  private setTool(tool: Tool): void {
    if (tool !== 'select' && !this.canEdit) { toast('Read only: you are a viewer in this project', true); return; }
    if (this.draft && tool !== 'polygon') this.draft = null;
    this.tool = tool;
    this.stage.style.cursor = tool === 'select' ? 'default' : 'crosshair';
    this.overlayDirty = true;
    this.panel();
    this.schedule();
    toast({ select: 'Select tool', box: 'Box tool: drag to draw', polygon: 'Polygon tool: click points, Enter closes', comment: 'Comment tool: click to pin a comment',
      brush: 'Mask brush: paint on the selected mask or a new one ([ and ] size)', eraser: 'Eraser: erase from the selected mask' }[tool]);
  }

  /** Polygon → mask (rasterised at full resolution), or mask → its polygon outline (as models propose it). */
  private convert(): void {
    const s = this.selected.size === 1 ? this.live.shapes().get([...this.selected][0]) : undefined;
    if (!s || !this.info) { toast('Select one polygon or mask to convert', true); return; }
    if (s.kind === 'polygon') {
      const painter = new MaskPainter(this.info.width, this.info.height, '#ffffff');
      painter.fillRings((s.geometry as { rings: number[][] }).rings);
      const rle = painter.toRle();
      if (!rle) { toast('The polygon covers no pixel', true); return; }
      this.live.update(s.id, { kind: 'mask', geometry: { ...rle, polygons: (s.geometry as { rings: number[][] }).rings } });
      toast('Polygon converted to a mask');
    } else if (s.kind === 'mask') {
      let outline = (s.geometry as Mask).polygons;
      if (!outline?.length) {
        // A painted mask has no outline: trace it (each region's outer boundary, simplified to within 0.75 px).
        const painter = new MaskPainter(this.info.width, this.info.height, '#ffffff', s.geometry as Mask);
        outline = traceRings(painter.pixels, this.info.width, this.info.height);
        if (!outline.length) { toast('The mask is empty', true); return; }
      }
      this.live.update(s.id, { kind: 'polygon', geometry: { rings: outline } });
      toast('Mask converted to its polygon outline');
    } else toast('Boxes convert to nothing; draw a polygon (P) or a mask (M)', true);
  }

  /** A brush or eraser stroke starts: on the selected mask, or (brush only) on a new one. */
  private startStroke(x: number, y: number): void {
    if (!this.info) return;
    const selected = this.selected.size === 1 ? this.live.shapes().get([...this.selected][0]) : undefined;
    const target = selected?.kind === 'mask' ? selected : undefined;
    if (!target && this.tool === 'eraser') { toast('Select a mask to erase from', true); return; }
    if (!target && !this.currentLabel) { toast('The project has no labels: add one first', true); return; }
    const color = this.labels.get(target?.labelId ?? this.currentLabel)?.color ?? '#ffffff';
    const painter = this.painting && this.painting.id === (target?.id ?? null) ? this.painting.painter
      : new MaskPainter(this.info.width, this.info.height, color, target ? target.geometry as Mask : undefined);
    this.painting = { id: target?.id ?? null, painter };
    painter.begin();
    painter.stroke(x, y, this.brushRadius, this.tool === 'eraser');
    this.invalidateScene();
    this.overlayDirty = true;
    this.schedule();
  }

  /** The stroke ends: the whole mask is sent as one op (a create for a new mask; a delete when it was erased away). */
  private finishStroke(): void {
    const { id, painter } = this.painting!;
    this.painting = null;
    const rle = painter.toRle();
    if (id && rle) this.live.update(id, { geometry: rle });
    else if (id) { this.live.remove(id); toast('Mask erased'); }
    else if (rle) {
      const created = crypto.randomUUID();
      this.live.create(created, { labelId: this.currentLabel, kind: 'mask', geometry: rle });
      this.selected = new Set([created]); // the next stroke paints on the same mask
    }
    this.invalidateScene();
    this.overlayDirty = true;
    this.selectionChanged();
  }

  private closeDraft(): void {
    let points = this.draft;
    this.draft = null;
    // A double-click's second press added the same point again: drop points within 2 screen pixels of the one before.
    if (points) {
      const kept: number[] = [];
      for (let i = 0; i + 1 < points.length; i += 2) {
        const n = kept.length;
        if (n >= 2 && Math.hypot(points[i] - kept[n - 2], points[i + 1] - kept[n - 1]) * this.view.scale < 2) continue;
        kept.push(points[i], points[i + 1]);
      }
      points = kept;
    }
    this.overlayDirty = true;
    this.schedule();
    if (!points || points.length < 6) { toast('A polygon needs at least 3 points', true); return; }
    if (!this.currentLabel) { toast('The project has no labels: add one first', true); return; }
    const id = crypto.randomUUID();
    this.live.create(id, { labelId: this.currentLabel, kind: 'polygon', geometry: { rings: [points] } });
    this.selected = new Set([id]);
    this.selectionChanged();
  }

  private async comment(x: number, y: number): Promise<void> {
    const text = prompt('Comment')?.trim();
    if (!text) return;
    try { await this.live.addComment(round(x), round(y), text); toast('Comment pinned'); }
    catch (err) { toast(`Comment not added: ${(err as Error).message}`, true); }
  }

  private async review(status: string): Promise<void> {
    try { await this.live.setStatus(status); this.status = status; this.base.dataset.status = status; toast(`Image ${status}`); this.panel(); }
    catch (err) { toast(`Not changed: ${(err as Error).message}`, true); }
  }

  private step(direction: number): void {
    const at = this.neighbours.indexOf(this.imageId);
    const next = at < 0 ? undefined : this.neighbours[at + direction];
    if (!next) { toast(direction > 0 ? 'This is the last image' : 'This is the first image'); return; }
    navigate(`/images/${next}${location.search}`);
  }

  private pickLabel(index: number): void {
    const label = this.project?.labels[index];
    if (!label) { toast(`There is no label ${index + 1}`, true); return; }
    this.currentLabel = label.id;
    for (const id of this.selected) this.live.update(id, { labelId: label.id });
    toast(`Label: ${label.name}${this.selected.size ? ` (${this.selected.size} shape(s) relabelled)` : ''}`);
    this.panel();
  }

  private setState(state: 'accepted' | 'rejected'): void {
    if (this.selected.size === 0) { toast('Select a shape first (V, then click it)', true); return; }
    for (const id of this.selected) this.live.update(id, { state });
    toast(`${this.selected.size} shape(s) ${state}`);
  }

  /** Walks the proposals still to review, highest score first, so a reviewer can go through them by keyboard. */
  private nextProposal(direction: number): void {
    const proposals = [...this.live.shapes().values()].filter(s => s.state === 'proposed')
      .sort((a, b) => (b.source.score ?? 0) - (a.source.score ?? 0) || a.id.localeCompare(b.id));
    if (proposals.length === 0) { toast('No proposals left to review'); return; }
    const at = proposals.findIndex(p => this.selected.has(p.id));
    const next = proposals[(at + direction + proposals.length) % proposals.length] ?? proposals[0];
    this.selected = new Set([next.id]);
    this.selectionChanged();
    toast(`${this.labels.get(next.labelId)?.name ?? ''} ${((next.source.score ?? 0) * 100).toFixed(0)}% — A accepts, R rejects`);
  }

  private acceptAbove(): void {
    const proposals = [...this.live.shapes().values()].filter(s => s.state === 'proposed' && (s.source.score ?? 0) >= this.scoreThreshold);
    for (const s of proposals) this.live.update(s.id, { state: 'accepted' });
    toast(`Accepted ${proposals.length} proposal(s) scoring ${Math.round(this.scoreThreshold * 100)}% or more`);
  }

  private deleteSelected(): void {
    if (this.selected.size === 0) return;
    for (const id of this.selected) this.live.remove(id);
    toast(`Deleted ${this.selected.size} shape(s)`);
    this.selected.clear();
    this.selectionChanged();
  }

  private async undo(redo: boolean): Promise<void> {
    if (!this.canEdit) { toast('Read only: you are a viewer in this project', true); return; }
    try {
      const problem = await this.live.undo(redo);
      toast(problem ? `Cannot ${redo ? 'redo' : 'undo'}: ${problem}` : redo ? 'Redone' : 'Undone', !!problem);
    } catch { toast('Undo needs the connection; try again when it is back', true); }
  }

  private selectionChanged(): void {
    this.invalidateScene();
    this.live.sendPresence({ selection: [...this.selected], tool: this.tool });
    this.base.dataset.selected = [...this.selected].join(',');
    this.panel();
    this.schedule();
  }

  private panel(): void {
    const shapes = [...this.live.shapes().values()];
    const selected = shapes.filter(s => this.selected.has(s.id));
    render(html`
      <a href=${this.info ? `/projects/${this.info.projectId}` : '/'}>← ${this.project?.name ?? 'Project'}</a>
      <strong>${this.info?.fileName ?? ''}</strong>
      <button class="tool ${this.tool === 'select' ? 'active' : ''}" title="Select (V)" @click=${() => this.setTool('select')}>Select <kbd>V</kbd></button>
      ${this.canEdit ? html`
      <button class="tool ${this.tool === 'box' ? 'active' : ''}" title="Box (B)" @click=${() => this.setTool('box')}>Box <kbd>B</kbd></button>
      <button class="tool ${this.tool === 'polygon' ? 'active' : ''}" title="Polygon (P)" @click=${() => this.setTool('polygon')}>Polygon <kbd>P</kbd></button>
      <button class="tool ${this.tool === 'brush' ? 'active' : ''}" title="Mask brush (M)" @click=${() => this.setTool('brush')}>Brush <kbd>M</kbd></button>
      <button class="tool ${this.tool === 'eraser' ? 'active' : ''}" title="Eraser (E)" @click=${() => this.setTool('eraser')}>Eraser <kbd>E</kbd></button>
      <button class="tool ${this.tool === 'comment' ? 'active' : ''}" title="Comment (C)" @click=${() => this.setTool('comment')}>Comment <kbd>C</kbd></button>` : ''}
      <button title="Fit (F)" @click=${() => this.fit()}>Fit <kbd>F</kbd></button>
      ${this.canEdit ? html`
      <button title="Undo (Ctrl+Z)" @click=${() => this.undo(false)}>Undo</button>
      <button title="Redo (Ctrl+Shift+Z)" @click=${() => this.undo(true)}>Redo</button>` : ''}
      <span class="chip role" title="Your role in this project">${this.role ?? '…'}${this.role === 'viewer' ? ' · read only' : ''}</span>
      <span class=${this.live.connected ? 'muted' : 'error'}>${this.live.connected ? 'live' : 'offline — edits are kept and sent on reconnect'}</span>
 <span class="chip" aria-label="status">${this.status}</span>
      ${this.canEdit ? html`<button @click=${() => this.review('submitted')}>Submit for review</button>` : ''}
      ${this.canReview ? html`<button @click=${() => this.review('approved')}>Approve</button>
      <button @click=${() => this.review('rejected')}>Reject</button>` : ''}
      ${this.canEdit ? html`<button @click=${() => this.review('in-progress')}>Reopen</button>` : ''}
      <button title="Previous image (←)" @click=${() => this.step(-1)}>←</button>
      <button title="Next image (→)" @click=${() => this.step(1)}>→</button>
      <button style="margin-left:auto" title="Shortcuts (?)" @click=${() => { this.helpOpen = !this.helpOpen; this.panel(); }}>?</button>`, this.bar);
    render(html`
      <h4>Labels</h4>
      ${(this.project?.labels ?? []).map((l, i) => html`
        <div class="label-row ${l.id === this.currentLabel ? 'current' : ''}" @click=${() => this.pickLabel(i)}>
          <span class="swatch" style="background:${l.color}"></span><kbd>${i < 9 ? i + 1 : ''}</kbd> ${l.name}
          <input type="checkbox" title="show" .checked=${!this.hiddenLabels.has(l.id)}
            @click=${(e: Event) => e.stopPropagation()}
            @change=${(e: Event) => { if ((e.target as HTMLInputElement).checked) this.hiddenLabels.delete(l.id); else this.hiddenLabels.add(l.id); this.invalidateScene(); this.schedule(); }} />
        </div>`)}
      <p><label>Brush ${this.brushRadius} px <input type="range" min="1" max="150" .value=${String(this.brushRadius)} aria-label="Brush size"
        @input=${(e: Event) => { this.brushRadius = Number((e.target as HTMLInputElement).value); this.panel(); }} /></label></p>
      <p><label>Fill <input type="range" min="0" max="0.6" step="0.05" .value=${String(this.fillOpacity)}
        @input=${(e: Event) => { this.fillOpacity = Number((e.target as HTMLInputElement).value); this.invalidateScene(); this.schedule(); }} /></label></p>
      <p><label>Accept ≥ ${Math.round(this.scoreThreshold * 100)}% <input type="range" min="0" max="1" step="0.05" .value=${String(this.scoreThreshold)}
        @input=${(e: Event) => { this.scoreThreshold = Number((e.target as HTMLInputElement).value); this.panel(); }} /></label>
        ${this.canEdit ? html`<button @click=${() => this.acceptAbove()} title="Shift+A">Accept all</button>` : ''}</p>
      <h4>Shapes <span class="muted">${shapes.length} · ${shapes.filter(s => s.state === 'proposed').length} proposed</span></h4>
      ${selected.map(s => html`<div class="card">${this.labels.get(s.labelId)?.name} · ${s.kind} · ${s.state}
        ${s.source.score != null ? html`· ${(s.source.score * 100).toFixed(0)}%` : ''}<br />
        ${this.canEdit ? html`<button @click=${() => this.setState('accepted')}>Accept <kbd>A</kbd></button>
        <button @click=${() => this.setState('rejected')}>Reject <kbd>R</kbd></button>
        <button @click=${() => this.deleteSelected()}>Delete</button>` : ''}</div>`)}
      <h4>Comments</h4>
      ${[...this.live.comments.values()].map((c, i) => html`<div class="comment ${c.resolved ? 'muted' : ''}">
        <strong>${i + 1}</strong> ${c.author}: ${c.text}
        <label title=${this.canReview ? 'Resolve' : 'Reviewers resolve comments'}><input type="checkbox" .checked=${c.resolved} ?disabled=${!this.canReview} @change=${(e: Event) => this.live.resolveComment(c.id, (e.target as HTMLInputElement).checked)
          .then(() => toast('Comment updated')).catch(err => toast((err as Error).message, true))} /> resolved</label></div>`)}
      <h4>On this image</h4>
      ${[...this.live.participants.values()].map(p => html`<div class="participant"><span class="swatch" style="background:${p.color}"></span> ${p.name}${p.name === this.user ? ' (you)' : ''}</div>`)}
      ${this.helpOpen ? html`<div class="help" role="dialog" aria-label="Shortcuts"><h3>Shortcuts</h3>
        <table>${shortcuts.map(([k, what]) => html`<tr><td><kbd>${k}</kbd></td><td>${what}</td></tr>`)}</table>
        <p><button @click=${() => { this.helpOpen = false; this.panel(); }}>Close</button></p></div>` : ''}`, this.side);
  }
}

const round = (v: number) => Math.round(v * 100) / 100;
const clampTo = (v: number, max: number) => Math.min(max, Math.max(0, v));

export type { Shape };
