import { atLeast } from '../session';
import { toast } from '../toast';
import { LiveImage } from './live';
import { bounds, Shape } from './shapes';
import { EditorState, initialState } from './state';
import { Store } from './store';
import { tools } from './tools/registry';
import type { Tool, ToolSession } from './tools/tool';
import { Viewport } from './viewport';
import { lockReason } from './work';

/**
 * One open image: the state store, the live connection and the view, and the operations tools, commands and panels
 * share. It holds no DOM beyond the stage it measures; the page (editor-page.ts) wires it to the canvas and panels.
 */
export class Editor {
  readonly store = new Store<EditorState>(initialState());
  readonly view = new Viewport();
  readonly live: LiveImage;
  private readonly sessions: Map<string, ToolSession>;

  constructor(readonly imageId: string, readonly user: string, readonly stage: HTMLElement) {
    this.live = new LiveImage(imageId, user);
    // A new shape starts with its label's attribute defaults (an explicit value in the create wins).
    this.live.attributeDefaults = labelId => {
      const defs = this.state.project?.labels.find(l => l.id === labelId)?.attributes ?? [];
      const values = Object.fromEntries(defs.filter(d => d.default !== undefined && d.default !== null).map(d => [d.name, d.default]));
      return Object.keys(values).length ? values : undefined;
    };
    this.sessions = new Map(tools.map(t => [t.id, t.create(this)]));
  }

  get state(): Readonly<EditorState> { return this.store.get(); }
  /** The role allows changing annotations (annotators and above); the image's stage may still lock it (lockReason). */
  get mayEdit(): boolean { return atLeast(this.state.role, 'annotator'); }
  /** Why this user cannot change this image's annotations now (a viewer; submitted or approved), or null. */
  get lockReason(): string | null { return lockReason(this.state); }
  /** The annotations may be changed now: the role allows it, the workflow stage does too, and the live state is shown (not a past one). */
  get canEdit(): boolean { return this.mayEdit && !this.lockReason && !this.state.viewing; }
  /** Why nothing may be changed now (lockReason, or a past state on show), or null. */
  get readOnlyReason(): string | null {
    const v = this.state.viewing;
    return this.lockReason ?? (v ? `you are viewing the state after #${v.seq}; press Esc or "Back to now" to edit` : null);
  }
  get canReview(): boolean { return atLeast(this.state.role, 'reviewer'); }
  get canOwn(): boolean { return atLeast(this.state.role, 'owner'); }
  get tool(): Tool { return tools.find(t => t.id === this.state.tool) ?? tools[0]; }
  get session(): ToolSession { return this.sessions.get(this.state.tool)!; }

  /** The one selected shape, when exactly one is selected. */
  single(): Shape | undefined {
    const s = this.state.selected;
    return s.size === 1 ? this.shapes().get([...s][0]) : undefined;
  }

  /** The shapes on show: a past state from the history while one is viewed (read only), else the live ones. */
  shapes(): Map<string, Shape> { return this.state.viewing?.shapes ?? this.live.shapes(); }

  /** The shapes as drawn (shapes()): hidden ones left out, the one being dragged at its dragged geometry. */
  displayed(): Map<string, Shape> {
    const { hiddenShapes, preview } = this.state;
    let shapes = this.shapes();
    if (hiddenShapes.size === 0 && !preview) return shapes;
    shapes = new Map(shapes);
    for (const id of hiddenShapes) shapes.delete(id);
    const current = preview && shapes.get(preview.id);
    if (preview && !preview.geometry) shapes.delete(preview.id); // being painted: on the overlay
    else if (preview?.geometry && current) shapes.set(current.id, { ...current, geometry: preview.geometry, bounds: bounds(current.kind, preview.geometry) });
    return shapes;
  }

  /** Whether the canvas may pick this shape: its label shown, not hidden, not locked. */
  pickable(s: Shape): boolean {
    const { hiddenLabels, hiddenShapes, locked } = this.state;
    return !hiddenLabels.has(s.labelId) && !hiddenShapes.has(s.id) && !locked.has(s.id);
  }

  select(ids: Iterable<string>): void {
    const selected = new Set(ids);
    this.store.set({ selected });
    this.live.sendPresence({ selection: [...selected], tool: this.state.tool });
  }

  setTool(id: string): void {
    const tool = tools.find(t => t.id === id);
    if (!tool) return;
    if (tool.edits && !(tool.keepsWhenLocked ? this.mayEdit : this.canEdit)) { toast(`Read only: ${this.readOnlyReason ?? 'you cannot change this image'}`, true); return; }
    if (id !== this.state.tool) this.session.cancel?.();
    this.store.set({ tool: id });
    this.stage.style.cursor = tool.cursor ?? 'crosshair';
    this.redrawOverlay();
    toast(tool.hint);
  }

  viewChanged(): void { this.store.update(s => ({ view: s.view + 1 })); }
  redrawOverlay(): void { this.store.update(s => ({ overlay: s.overlay + 1 })); }

  fit(): void {
    const info = this.state.info;
    if (!info) return;
    this.view.fit(info.width, info.height, this.stage.clientWidth, this.stage.clientHeight);
    this.viewChanged();
  }

  /** Selects a shape and brings it into view, zoomed so it takes about half the stage (the objects list). */
  jumpTo(id: string): void {
    const s = this.shapes().get(id);
    if (!s) return;
    const [x0, y0, x1, y1] = s.bounds, w = this.stage.clientWidth, h = this.stage.clientHeight;
    const scale = Math.min(8, Math.max(0.05, Math.min(w / Math.max(1, x1 - x0), h / Math.max(1, y1 - y0)) * 0.5));
    Object.assign(this.view, { scale, tx: w / 2 - ((x0 + x1) / 2) * scale, ty: h / 2 - ((y0 + y1) / 2) * scale });
    if (this.state.hiddenShapes.has(id)) this.store.update(st => ({ hiddenShapes: new Set([...st.hiddenShapes].filter(x => x !== id)) }));
    this.select([id]);
    this.viewChanged();
  }

  /** Label of a shape (or label id) by name, for messages. */
  labelName(labelId: string): string { return this.state.labels.get(labelId)?.name ?? 'unlabelled'; }
}
