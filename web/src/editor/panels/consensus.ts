import { html } from 'lit';
import { api, utc, type Replica } from '../../api';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

const kinds: Record<string, string> = { consensus: 'consensus share', honeypot: 'honeypot' };

/**
 * Consensus in the side panel, for reviewers and owners (docs/quality.md): the image's private copies — each
 * annotator's own, independent annotation (consensus shares and honeypots) — with whose it is, its status, its shape
 * count and a honeypot's F1, and a link that opens the copy in the editor; once merged, the annotators' agreement
 * (mean pairwise F1) and whether it waits for adjudication. Nothing shows for an image without copies, nor for
 * annotators (the route answers them 403; a copy itself answers 404): the panel stays empty then. A copy opened from
 * here (?copyOf=) is not asked about: it says so, with the way back to the image it copies.
 */
export class ConsensusPanel extends EditorPanel {
  private offLoad: (() => void) | undefined;
  private loading = 0;

  protected watch(s: EditorState) { return [s.replicas, s.role]; }

  override connectedCallback(): void {
    super.connectedCallback();
    // Read once the role is known, and again when the image's status moves (the last copy's submission merges them).
    this.offLoad = this.ed.store.subscribe(s => [s.role, s.status], () => this.load());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.offLoad?.();
  }

  /** The image this one is a copy of, when opened from the panel. */
  private readonly copyOf = new URLSearchParams(location.search).get('copyOf');

  private async load(): Promise<void> {
    const ed = this.ed;
    if (!ed.canReview || this.copyOf) { if (ed.state.replicas) ed.store.set({ replicas: null }); return; }
    const seq = ++this.loading;
    try {
      const replicas = await api.replicas(ed.imageId);
      if (seq === this.loading) ed.store.set({ replicas });
    } catch {
      // 403 (not a reviewer here) or 404 (the image is itself a copy, or gone): nothing to show.
      if (seq === this.loading) ed.store.set({ replicas: null });
    }
  }

  private copy(r: Replica) {
    return html`<li data-image=${r.imageId} data-owner=${r.owner}>
      <div><strong>${r.owner}</strong> <span class="chip">${kinds[r.kind] ?? r.kind}</span></div>
      <div class="muted">${r.status}${r.submittedAt ? ` ${utc(r.submittedAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}` : ''}</div>
      <div>${r.shapes} shape(s)${r.f1 != null ? html` · F1 <strong class="f1">${r.f1.toFixed(2)}</strong>` : ''}
        · <a href="/images/${r.imageId}?copyOf=${this.ed.imageId}" aria-label="Open ${r.owner}'s ${kinds[r.kind] ?? r.kind}" title="Open this copy in the editor (read-only once submitted)">open</a></div></li>`;
  }

  protected override render() {
    const r = this.ed.state.replicas;
    if (this.copyOf && this.ed.canReview)
      return html`<section class="consensus" aria-label="Consensus"><h4>Consensus</h4>
        <p class="muted">A private copy: one annotator's own annotation, read-only once submitted.</p>
        <a href="/images/${this.copyOf}">← the image it copies</a></section>`;
    if (!r || r.replicas.length === 0) return html``;
    const consensus = r.replicas.filter(c => c.kind === 'consensus').length;
    return html`<section class="consensus" aria-label="Consensus">
      <h4>Consensus ${r.needsAdjudication ? html`<span class="chip adjudicate-chip" title="The annotators agreed less than the project's bar: a reviewer adjudicates the merged result">needs adjudication</span>` : ''}</h4>
      ${r.agreement != null
        ? html`<div class="agreement" title="The mean F1 of every pair of annotators' copies (1: they drew the same)">Agreement <strong>${r.agreement.toFixed(2)}</strong> <span class="muted">(${Math.round(r.agreement * 100)}%)</span></div>`
        : consensus ? html`<div class="muted">${consensus} of ${r.overlap} cop${r.overlap === 1 ? 'y' : 'ies'} started; merged when all are submitted.</div>` : ''}
      <ul class="copies" aria-label="Copies">${r.replicas.map(c => this.copy(c))}</ul>
    </section>`;
  }
}
customElements.define('vl-consensus-panel', ConsensusPanel);
