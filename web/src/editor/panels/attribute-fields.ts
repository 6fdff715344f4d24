import { html } from 'lit';
import type { LabelAttribute } from '../../api';
import * as act from '../actions';
import type { Editor } from '../editor';
import type { Shape } from '../shapes';

/**
 * The selected shape's attributes as its label defines them (text, number, select, checkbox), edited in place: each
 * change is one update op of the shape's attributes, so co-editors see it live and undo takes it back. A value the
 * label does not define is listed read-only (an import's extra, a value from another label).
 */
export function attributeFields(ed: Editor, x: Shape) {
  const defs = ed.state.project?.labels.find(l => l.id === x.labelId)?.attributes ?? [];
  const extra = Object.entries(x.attributes).filter(([k]) => !defs.some(d => d.name === k) && k !== 'coco' && k !== 'iscrowd');
  if (defs.length === 0 && extra.length === 0) return '';
  const disabled = !ed.canEdit;
  return html`<div class="attribute-fields" role="group" aria-label="attributes">
    ${defs.map(d => html`<label class="attribute-field">${d.name} ${field(ed, x, d, disabled)}</label>`)}
    ${extra.map(([k, v]) => html`<div class="muted attribute-field" title="Not an attribute of this label">${k}: ${JSON.stringify(v)}</div>`)}
  </div>`;
}

function field(ed: Editor, x: Shape, d: LabelAttribute, disabled: boolean) {
  const value = x.attributes[d.name];
  const aria = `attribute ${d.name}`;
  switch (d.type) {
    case 'checkbox':
      return html`<input type="checkbox" aria-label=${aria} ?disabled=${disabled} .checked=${value === true}
        @change=${(e: Event) => act.setAttribute(ed, x.id, d.name, (e.target as HTMLInputElement).checked)} />`;
    case 'select':
      return html`<select aria-label=${aria} ?disabled=${disabled} @change=${(e: Event) => {
          const v = (e.target as HTMLSelectElement).value; act.setAttribute(ed, x.id, d.name, v === '' ? undefined : v); }}>
        <option value="" ?selected=${value === undefined}>—</option>
        ${(d.options ?? []).map(o => html`<option value=${o} ?selected=${value === o}>${o}</option>`)}</select>`;
    case 'number':
      return html`<input type="number" step="any" size="6" aria-label=${aria} ?disabled=${disabled} .value=${value === undefined ? '' : String(value)}
        @change=${(e: Event) => { const t = (e.target as HTMLInputElement).value; act.setAttribute(ed, x.id, d.name, t === '' ? undefined : Number(t)); }} />`;
    default:
      return html`<input type="text" maxlength="1000" size="12" aria-label=${aria} ?disabled=${disabled} .value=${typeof value === 'string' ? value : ''}
        @change=${(e: Event) => { const t = (e.target as HTMLInputElement).value; act.setAttribute(ed, x.id, d.name, t === '' ? undefined : t); }} />`;
  }
}
