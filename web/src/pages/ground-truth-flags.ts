import { html, LitElement } from 'lit';
import { api, type GroundTruthFlag } from '../api';

/**
 * The quality page's "Ground truth under question" (docs/quality.md), for reviewers and owners: ground-truth shapes
 * that more than half of the scored submissions of their image missed (at least `minAttempts` of them, at the page's
 * IoU), the highest share first; each row opens the image in the editor. An invitation to look at the truth again,
 * not a verdict. The page sets `projectId` and `iou` and calls `refresh()` when its figures are read again.
 */
export class GroundTruthFlags extends LitElement {
  static override properties = { projectId: { attribute: false }, iou: { attribute: false } };
  declare projectId: string;
  declare iou: number;
  private minAttempts = 3;
  private flags: GroundTruthFlag[] | undefined;
  private error = '';
  private seq = 0;
  /** File names by image id (the route names images by id). */
  private readonly names = new Map<string, string>();

  constructor() {
    super();
    this.projectId = '';
    this.iou = 0.5;
  }

  protected override createRenderRoot(): HTMLElement { return this; }

  protected override updated(changed: Map<string, unknown>): void {
    if ((changed.has('projectId') || changed.has('iou')) && this.projectId) this.refresh();
  }

  async refresh(): Promise<void> {
    const seq = ++this.seq;
    try {
      const flags = await api.groundTruthFlags(this.projectId, this.iou, this.minAttempts);
      await Promise.all([...new Set(flags.map(f => f.imageId))].filter(id => !this.names.has(id)).slice(0, 100)
        .map(id => api.image(id).then(i => { this.names.set(id, i.fileName); }, () => {})));
      if (seq !== this.seq) return;
      this.flags = flags;
      this.error = '';
    } catch (err) {
      if (seq !== this.seq) return;
      this.error = (err as Error).message;
    }
    this.requestUpdate();
  }

  protected override render() {
    const flags = this.flags;
    return html`<section class="card gt-flags" aria-label="Ground truth under question">
      <h3>Ground truth under question ${flags ? html`<span class="muted">${flags.length}</span>` : ''}</h3>
      <p class="muted small">Ground-truth shapes that more than half of the submissions of their image missed (IoU ≥ ${this.iou.toFixed(2)}),
        when at least <input type="number" min="1" max="1000" step="1" class="narrow-number" aria-label="Least attempts" .value=${String(this.minAttempts)}
          @change=${(e: Event) => { const n = Math.round(Number((e.target as HTMLInputElement).value)); if (n >= 1) { this.minAttempts = n; this.refresh(); } }} />
        submissions were scored against them. Worth a second look: the truth may be wrong, or the guidelines unclear.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : !flags ? html`<p class="muted">…</p>` : flags.length === 0
        ? html`<p class="muted">None: where enough submissions were scored, most of them found each ground-truth shape.</p>`
        : html`<div class="table-scroll"><table class="work-table gt-flags-table">
          <thead><tr><th scope="col">Image</th><th scope="col">Label</th><th scope="col" title="Scored submissions of the image (each annotator's first, honeypots included)">Attempts</th>
            <th scope="col" title="Of those, how many left this shape unmatched">Missed</th><th scope="col">Missed share</th></tr></thead>
          <tbody>${flags.map(f => html`<tr data-image=${f.imageId} data-truth=${f.groundTruthId}>
            <th scope="row"><a href="/images/${f.imageId}">${this.names.get(f.imageId) ?? `image ${f.imageId.slice(0, 8)}`}</a></th>
            <td>${f.label}</td><td data-col="attempts">${f.attempts}</td><td data-col="missed">${f.missed}</td>
            <td data-col="share">${Math.round(f.missedShare * 100)}%</td></tr>`)}</tbody></table></div>`}
    </section>`;
  }
}
customElements.define('vl-ground-truth-flags', GroundTruthFlags);
