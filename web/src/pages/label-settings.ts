import { html, type TemplateResult } from 'lit';
import { api, labelKeys, labelPalette, type Label, type LabelAttribute } from '../api';
import { toast } from '../toast';

/**
 * The project page's label settings (owners): each label's colour, name, key and attributes, a new label, delete.
 * An attribute list is edited in place and saved as a whole (PATCH replaces the label's list; objects keep their values).
 */
export interface LabelSettingsHost {
  projectId: string;
  labels(): readonly Label[];
  /** Runs a change, says `done` or the server's reason, and reloads the project; true when it was made. */
  act(action: () => Promise<unknown>, done: string): Promise<boolean>;
  deleteLabel(labelId: string, name: string): void;
  redraw(): void;
}

type Draft = { name: string; type: LabelAttribute['type']; options: string; default: string };
const types: readonly LabelAttribute['type'][] = ['text', 'number', 'select', 'checkbox'];

/** Attribute drafts per label being edited (absent: closed). */
const drafts = new Map<string, Draft[]>();

const toDraft = (a: LabelAttribute): Draft => ({
  name: a.name, type: a.type, options: (a.options ?? []).join(', '),
  default: a.default === undefined || a.default === null ? '' : String(a.default),
});

/** The typed default of a draft ('' → none); a number that is not one is left as text so the server names the field. */
function typedDefault(d: Draft): unknown {
  if (d.default.trim() === '') return undefined;
  if (d.type === 'number') { const n = Number(d.default); return Number.isFinite(n) ? n : d.default; }
  if (d.type === 'checkbox') return d.default === 'true';
  return d.default;
}

export const fromDraft = (d: Draft): LabelAttribute => ({
  name: d.name.trim(), type: d.type,
  options: d.type === 'select' ? d.options.split(',').map(o => o.trim()).filter(Boolean) : undefined,
  default: typedDefault(d) as LabelAttribute['default'],
});

export function labelSettings(host: LabelSettingsHost): TemplateResult {
  const { projectId } = host;
  const labels = host.labels();
  const taken = (except: string) => new Set(labels.filter(l => l.id !== except && l.hotkey).map(l => l.hotkey!));
  return html`
    ${labels.map(l => html`<div class="label-edit" data-label=${l.name}>
      <input type="color" .value=${l.color} aria-label="colour of ${l.name}" @change=${(e: Event) => host.act(() => api.updateLabel(projectId, l.id, { color: (e.target as HTMLInputElement).value }), `${l.name}: colour changed`)} />
      <input .value=${l.name} aria-label="name of ${l.name}" maxlength="200" @change=${(e: Event) => host.act(() => api.updateLabel(projectId, l.id, { name: (e.target as HTMLInputElement).value }), 'Label renamed')} />
      <label title="The key that picks this label in the editor (Shift+key relabels the selection)">key
        <select aria-label="key of ${l.name}" @change=${(e: Event) => { const key = (e.target as HTMLSelectElement).value;
            host.act(() => api.updateLabel(projectId, l.id, { hotkey: key }), key ? `${l.name}: key ${key}` : `${l.name}: no key`)
              .then(ok => { if (!ok) { (e.target as HTMLSelectElement).value = l.hotkey ?? ''; host.redraw(); } }); }}>
          <option value="" ?selected=${!l.hotkey}>none</option>
          ${labelKeys.map(k => html`<option value=${k} ?selected=${l.hotkey === k} ?disabled=${taken(l.id).has(k)}>${k.toUpperCase()}</option>`)}
        </select></label>
      <button class="attributes-toggle" aria-expanded=${String(drafts.has(l.id))} title="What each ${l.name} records besides its shape: texts, numbers, choices, yes/no"
        @click=${() => { if (drafts.has(l.id)) drafts.delete(l.id); else drafts.set(l.id, l.attributes.map(toDraft)); host.redraw(); }}>
        Attributes (${l.attributes.length})</button>
      <button @click=${() => host.deleteLabel(l.id, l.name)}>Delete</button>
      ${drafts.has(l.id) ? attributeEditor(host, l) : ''}</div>`)}
    <form class="new-label" @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        const form = e.target as HTMLFormElement, data = new FormData(form), name = String(data.get('label') ?? '');
        const color = String(data.get('color') ?? ''), hotkey = String(data.get('hotkey') ?? '');
        host.act(() => api.createLabel(projectId, { name, color: color || undefined, hotkey: hotkey === 'auto' ? undefined : hotkey }), `Label ${name} added`)
          .then(ok => { if (ok) form.reset(); }); }}>
      <input name="label" placeholder="New label" aria-label="New label" maxlength="200" required />
      <input type="color" name="color" aria-label="colour of the new label" title="Its colour (it starts as the next of the palette)" .value=${labelPalette[labels.length % labelPalette.length]} />
      <label>key <select name="hotkey" aria-label="key of the new label">
        <option value="auto">next free</option><option value="">none</option>
        ${labelKeys.map(k => html`<option value=${k} ?disabled=${taken('').has(k)}>${k.toUpperCase()}</option>`)}</select></label>
      <button type="submit">Add label</button></form>`;
}

function attributeEditor(host: LabelSettingsHost, l: Label): TemplateResult {
  const list = drafts.get(l.id)!;
  const set = (i: number, change: Partial<Draft>) => { list[i] = { ...list[i], ...change }; host.redraw(); };
  const save = () => host.act(() => api.updateLabel(host.projectId, l.id, { attributes: list.map(fromDraft) }), `${l.name}: ${list.length} attribute(s) saved`)
    .then(ok => { if (ok) { drafts.delete(l.id); host.redraw(); } });
  return html`<div class="attribute-editor card" role="group" aria-label="attributes of ${l.name}">
    ${list.length === 0 ? html`<p class="muted">No attributes: add one for what annotators should record about each ${l.name} (occluded, colour, count…).</p>` : ''}
    ${list.map((a, i) => html`<div class="attribute-row">
      <input .value=${a.name} placeholder="name" aria-label="attribute ${i + 1} name" maxlength="100" @input=${(e: Event) => set(i, { name: (e.target as HTMLInputElement).value })} />
      <select aria-label="attribute ${i + 1} type" @change=${(e: Event) => set(i, { type: (e.target as HTMLSelectElement).value as Draft['type'], default: '' })}>
        ${types.map(t => html`<option value=${t} ?selected=${a.type === t}>${t}</option>`)}</select>
      ${a.type === 'select' ? html`<input .value=${a.options} placeholder="options, comma-separated" aria-label="attribute ${i + 1} options" size="24"
        @input=${(e: Event) => set(i, { options: (e.target as HTMLInputElement).value })} />` : ''}
      ${a.type === 'checkbox'
        ? html`<label>default <select aria-label="attribute ${i + 1} default" @change=${(e: Event) => set(i, { default: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${a.default === ''}>none</option><option value="false" ?selected=${a.default === 'false'}>no</option><option value="true" ?selected=${a.default === 'true'}>yes</option></select></label>`
        : html`<input .value=${a.default} placeholder="default (optional)" aria-label="attribute ${i + 1} default" size="12"
            type=${a.type === 'number' ? 'number' : 'text'} @input=${(e: Event) => set(i, { default: (e.target as HTMLInputElement).value })} />`}
      <button class="icon" title="Remove this attribute (objects keep the values they have)" aria-label="remove attribute ${i + 1}"
        @click=${() => { list.splice(i, 1); host.redraw(); }}>✕</button></div>`)}
    <button @click=${() => { list.push({ name: '', type: 'text', options: '', default: '' }); host.redraw(); }}>Add attribute</button>
    <button class="primary" @click=${save}>Save attributes</button>
    <button @click=${() => { drafts.delete(l.id); host.redraw(); toast('Attribute changes dropped'); }}>Cancel</button>
  </div>`;
}
