import { html } from 'lit';
import { toast } from '../../toast';
import * as act from '../actions';
import type { Shape } from '../shapes';
import { toggled, type EditorState } from '../state';
import { EditorPanel } from './panel';

/** Rows shown at most: a list of 10,000 shapes would cost more than the canvas that draws them. */
const maxRows = 300;

/**
 * Every shape: its label (changeable), kind, source and score, state, hide and lock toggles; a click selects it and
 * brings it into view. The selected shapes get a card with accept, reject and delete.
 */
export class ObjectsPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.shapes, s.selected, s.hiddenShapes, s.locked, s.labels, s.role, s.project, s.status]; }

  protected override render() {
    const ed = this.ed, s = ed.state, shapes = [...ed.live.shapes().values()];
    const selected = shapes.filter(x => s.selected.has(x.id));
    return html`
      <h4>Objects <span class="muted">${shapes.length} · ${shapes.filter(x => x.state === 'proposed').length} proposed</span></h4>
      ${selected.map(x => html`<div class="card">${ed.labelName(x.labelId)} · ${x.kind} · ${x.state}${score(x)}<br />
        ${ed.canEdit ? html`<button @click=${() => act.setState(ed, 'accepted')}>Accept <kbd>A</kbd></button>
        <button @click=${() => act.setState(ed, 'rejected')}>Reject <kbd>R</kbd></button>
        <button @click=${() => act.deleteSelected(ed)}>Delete</button>` : ''}</div>`)}
      <div class="objects" role="list" aria-label="Objects">
        ${shapes.slice(0, maxRows).map((x, i) => this.row(x, i))}
        ${shapes.length > maxRows ? html`<p class="muted">${shapes.length - maxRows} more not listed (Tab walks the proposals)</p>` : ''}
      </div>`;
  }

  private row(x: Shape, i: number) {
    const ed = this.ed, s = ed.state, hidden = s.hiddenShapes.has(x.id), locked = s.locked.has(x.id);
    const toggle = (field: 'hiddenShapes' | 'locked', on: boolean, done: string) => {
      ed.store.update(st => field === 'locked' ? { locked: toggled(st.locked, [x.id], on) } : { hiddenShapes: toggled(st.hiddenShapes, [x.id], on) });
      if (on && s.selected.has(x.id)) ed.select([...s.selected].filter(id => id !== x.id));
      toast(`Object ${i + 1} ${done}`);
    };
    return html`<div role="listitem" class="obj-row ${s.selected.has(x.id) ? 'selected' : ''} ${hidden ? 'muted' : ''}" data-id=${x.id}>
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
