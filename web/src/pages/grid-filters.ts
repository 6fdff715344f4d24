import { html } from 'lit';
import type { Label } from '../api';
import { flags, hasFilter, idCount, stages, statuses, type ImageFilter } from '../image-filters';

/**
 * The project grid's filter bar: status, workflow stage, label, annotator, proposals, model score range, file name and
 * flagged (near-duplicates and box outliers of the latest health check, consensus disagreement), and the ids a drill-down picked as a removable chip. Every change calls `set` with the fields that changed ('' clears
 * one); the page keeps the filters in its address.
 */
export function gridFilters(f: ImageFilter, labels: readonly Label[], people: readonly string[], total: number | undefined,
  set: (patch: Partial<ImageFilter>) => void) {
  const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value.trim();
  const n = idCount(f);
  const labelMissing = f.label && labels.length > 0 && !labels.some(l => l.id === f.label);
  return html`<section class="card grid-filters" aria-label="Image filters">
    <label>Status <select @change=${(e: Event) => set({ status: value(e) })}>
      ${['', ...statuses].map(s => html`<option value=${s} ?selected=${s === (f.status ?? '')}>${s || 'all'}</option>`)}
    </select></label>
    <label title="The workflow stage, as the editor shows it: in-review and rework are submitted and rejected images someone is working on now">Stage
      <select aria-label="Stage" @change=${(e: Event) => set({ stage: value(e) })}>
      ${['', ...stages].map(s => html`<option value=${s} ?selected=${s === (f.stage ?? '')}>${s || 'any'}</option>`)}
    </select></label>
    <label title="Images with an accepted or proposed annotation of this label">Label
      <select aria-label="Label" @change=${(e: Event) => set({ label: value(e) })}>
      <option value="" ?selected=${!f.label}>any</option>
      ${labels.map(l => html`<option value=${l.id} ?selected=${l.id === f.label}>${l.name}</option>`)}
      ${labelMissing ? html`<option value=${f.label} selected>label ${f.label!.slice(0, 8)}…</option>` : ''}
    </select></label>
    <label title="Images this person submitted (last)">
      <input class="filter-annotator" aria-label="Annotator" list="grid-people" placeholder="annotator" .value=${f.annotator ?? ''} maxlength="256"
        @change=${(e: Event) => set({ annotator: value(e) })} />
      <datalist id="grid-people">${people.map(p => html`<option value=${p}></option>`)}</datalist></label>
    <label title="Images with model proposals nobody has accepted or rejected yet">Proposals
      <select aria-label="Proposals" @change=${(e: Event) => set({ hasProposals: value(e) })}>
      ${[['', 'any'], ['true', 'waiting'], ['false', 'none waiting']].map(([v, text]) => html`<option value=${v} ?selected=${v === (f.hasProposals ?? '')}>${text}</option>`)}
    </select></label>
    <label title="Images with a model annotation whose score is in this range (0 to 1)">Score
      <input type="number" class="score-input" min="0" max="1" step="0.05" placeholder="min" aria-label="Minimum score" .value=${f.minScore ?? ''}
        @change=${(e: Event) => set({ minScore: value(e) })} />–<input type="number" class="score-input" min="0" max="1" step="0.05" placeholder="max"
        aria-label="Maximum score" .value=${f.maxScore ?? ''} @change=${(e: Event) => set({ maxScore: value(e) })} /></label>
    <label title="Images the latest health check or consensus flagged">Flagged
      <select aria-label="Flagged" @change=${(e: Event) => set({ flagged: value(e) })}>
      <option value="" ?selected=${!f.flagged}>any</option>
      ${flags.map(o => html`<option value=${o.value} title=${o.title} ?selected=${o.value === f.flagged}>${o.text}</option>`)}
      ${f.flagged && !flags.some(o => o.value === f.flagged) ? html`<option value=${f.flagged} selected>${f.flagged}</option>` : ''}
    </select></label>
    <label title="Part of the file name, any case"><input type="search" class="filter-name" aria-label="File name" placeholder="file name" maxlength="255" .value=${f.fileName ?? ''}
      @change=${(e: Event) => set({ fileName: value(e) })} @input=${(e: Event) => later(() => set({ fileName: value(e) }))} /></label>
    ${n ? html`<span class="chip filter-chip ids-chip" data-ids=${n} title=${`The images a drill-down picked (${n})`}>${n} image${n === 1 ? '' : 's'}${f.idsNote ? ` from ${f.idsNote}` : ' picked'}
      <button type="button" class="icon" aria-label="Remove the picked images filter" @click=${() => set({ ids: '', idsNote: '' })}>×</button></span>` : ''}
    <label title="Archived images: kept whole, out of the grid, the queue and exports until an owner unarchives them (editor, Work panel)"><input type="checkbox" aria-label="Archived images"
      .checked=${f.archived === 'true'} @change=${(e: Event) => set({ archived: (e.target as HTMLInputElement).checked ? 'true' : '' })} /> archived</label>
    ${hasFilter(f) ? html`<button type="button" class="link clear-filters" @click=${() => set({ status: '', stage: '', label: '', annotator: '', hasProposals: '', minScore: '', maxScore: '', fileName: '', flagged: '', archived: '', ids: '', idsNote: '' })}>Clear filters</button>` : ''}
    <span class="muted image-total">${total === undefined ? '…' : `${total} image${total === 1 ? '' : 's'}${hasFilter(f) ? ' match' : ''}`}</span>
  </section>`;
}

/** Typing a file name filters as the user pauses (400 ms after the last key). */
let typing: number | undefined;
function later(fn: () => void): void {
  window.clearTimeout(typing);
  typing = window.setTimeout(fn, 400);
}
