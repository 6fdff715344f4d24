import { html } from 'lit';
import { toast } from '../../toast';
import * as act from '../actions';
import type { Shape } from '../shapes';
import { toggled, type EditorState } from '../state';
import { EditorPanel } from './panel';
import { attributeFields } from './attribute-fields';

/**
 * The list is virtual: only the rows in view (and `overscan` either side) are in the DOM, between two spacers, so
 * 100,000 shapes cost what 40 do. Rows have a fixed height (.obj-row in style.css) so the window follows from
 * scrollTop alone.
 */
const rowHeight = 24;
const overscan = 8;

/**
 * Every shape: its label (changeable), kind, source and score, state, hide and lock toggles; a click selects it and
 * brings it into view. The selected shapes get a card with accept, reject and delete.
 */
export class ObjectsPanel extends EditorPanel {
  /** The first row in view and how many fit (from the list's scroll position and height). */
  private first = 0;
  private fit = 20;
  /** The shapes as a list, made again when they change (the live Map may be the same object, changed in place). */
  private cached: { version: unknown; list: Shape[]; proposed: number } | null = null;

  protected watch(s: EditorState) { return [s.shapes, s.selected, s.hiddenShapes, s.locked, s.labels, s.role, s.project, s.status, s.viewing]; }

  protected override render() {
    const ed = this.ed, s = ed.state, from = ed.shapes();
    if (this.cached?.version !== s.shapes) { const list = [...from.values()]; this.cached = { version: s.shapes, list, proposed: list.filter(x => x.state === 'proposed').length }; }
    const shapes = this.cached.list;
    const selected = [...s.selected].map(id => from.get(id)).filter((x): x is Shape => !!x);
    const start = Math.max(0, Math.min(this.first, shapes.length - this.fit) - overscan), end = Math.min(shapes.length, this.first + this.fit + overscan);
    return html`
      <h4>Objects <span class="muted">${shapes.length} · ${this.cached.proposed} proposed</span></h4>
      ${selected.map(x => html`<div class="card">${ed.labelName(x.labelId)} · ${x.kind} · ${x.state}${score(x)}<br />
        ${ed.canEdit ? html`<button @click=${() => act.setState(ed, 'accepted')}>Accept <kbd>A</kbd></button>
        <button @click=${() => act.setState(ed, 'rejected')}>Reject <kbd>R</kbd></button>
        <button @click=${() => act.deleteSelected(ed)}>Delete</button>` : ''}
        ${selected.length === 1 ? attributeFields(ed, x) : ''}</div>`)}
      <div class="objects" role="list" aria-label="Objects" data-rows=${shapes.length} @scroll=${this.scrolled}>
        <div aria-hidden="true" style="height:${start * rowHeight}px"></div>
        ${shapes.slice(start, end).map((x, k) => this.row(x, start + k))}
        <div aria-hidden="true" style="height:${(shapes.length - end) * rowHeight}px"></div>
      </div>`;
  }

  private readonly scrolled = (e: Event) => {
    const list = e.currentTarget as HTMLElement;
    const first = Math.floor(list.scrollTop / rowHeight), fit = Math.ceil(list.clientHeight / rowHeight) + 1;
    if (first !== this.first || fit !== this.fit) { this.first = first; this.fit = fit; this.requestUpdate(); }
  };

  private lastSelected: ReadonlySet<string> | null = null;

  /** A shape selected elsewhere (the canvas, Tab through the proposals) is scrolled into the list's view. */
  protected override updated(): void {
    const selected = this.ed.state.selected;
    if (selected === this.lastSelected) return;
    this.lastSelected = selected;
    const list = this.querySelector<HTMLElement>('.objects'), id = [...selected][0];
    const i = id && this.cached ? this.cached.list.findIndex(x => x.id === id) : -1;
    if (!list || i < 0) return;
    const top = i * rowHeight;
    if (top < list.scrollTop || top + rowHeight > list.scrollTop + list.clientHeight) list.scrollTop = Math.max(0, top - list.clientHeight / 2);
  }

  private row(x: Shape, i: number) {
    const ed = this.ed, s = ed.state, hidden = s.hiddenShapes.has(x.id), locked = s.locked.has(x.id);
    const toggle = (field: 'hiddenShapes' | 'locked', on: boolean, done: string) => {
      ed.store.update(st => field === 'locked' ? { locked: toggled(st.locked, [x.id], on) } : { hiddenShapes: toggled(st.hiddenShapes, [x.id], on) });
      if (on && s.selected.has(x.id)) ed.select([...s.selected].filter(id => id !== x.id));
      toast(`Object ${i + 1} ${done}`);
    };
    return html`<div role="listitem" class="obj-row ${s.selected.has(x.id) ? 'selected' : ''} ${hidden ? 'muted' : ''}" data-id=${x.id} data-index=${i}>
      <span class="swatch" style="background:${s.labels.get(x.labelId)?.color ?? '#fff'}"></span>
      <button class="link jump" title="Select it and bring it into view" @click=${() => ed.jumpTo(x.id)}>${i + 1}</button>
      ${ed.canEdit ? html`<select aria-label="label of object ${i + 1}" title="Relabel" @change=${(e: Event) => act.relabel(ed, (e.target as HTMLSelectElement).value, [x.id])}>
          ${(s.project?.labels ?? []).map(l => html`<option value=${l.id} ?selected=${l.id === x.labelId}>${l.name}</option>`)}</select>`
        : html`<span>${ed.labelName(x.labelId)}</span>`}
      <span class="muted" title="kind · source">${x.kind} · ${x.source.type}${score(x)}</span>
      <span class="chip state-${x.state}">${x.state}</span>
      <button class="icon" aria-pressed=${String(hidden)} aria-label="hide object ${i + 1}" title=${hidden ? 'Hidden: click to show' : 'Hide'}
        @click=${() => toggle('hiddenShapes', !hidden, hidden ? 'shown' : 'hidden')}>${hidden ? '◌' : '◉'}</button>
      <button class="icon" aria-pressed=${String(locked)} aria-label="lock object ${i + 1}" title=${locked ? 'Locked: the canvas will not select or move it; click to unlock' : 'Lock: the canvas will not select or move it'}
        @click=${() => toggle('locked', !locked, locked ? 'unlocked' : 'locked: the canvas leaves it alone')}>${locked ? '🔒' : '🔓'}</button>
    </div>`;
  }
}
customElements.define('vl-objects-panel', ObjectsPanel);

const score = (x: Shape) => x.source.score != null ? ` · ${(x.source.score * 100).toFixed(0)}%` : '';
