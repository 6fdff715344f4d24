import { html, type TemplateResult } from 'lit';
import { api, type AnnotatorBiasRow, type BiasReport } from '../api';
import { gridHref } from '../image-filters';
import { navigate } from '../navigation';
import { toast } from '../toast';
import type { BarChart } from './analytics-charts';

/** A p-value as the page shows it: 7.7e-9 when small, 0.149 otherwise; — when not computed. */
export function pValue(p: number | null | undefined): string {
  if (p == null) return '—';
  if (p === 0) return '< 1e-300';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** Flagged first, then the strongest label-mix difference, then by name. */
const order = (a: AnnotatorBiasRow, b: AnnotatorBiasRow) =>
  b.flags.length - a.flags.length || (a.labelP ?? 2) - (b.labelP ?? 2) || a.user.localeCompare(b.user);

/**
 * The People page's "Label mix and box sizes against the team" (GET …/analytics/bias, docs/analytics.md): each person's
 * p-values (label mix, box sizes), the labels that drive a difference with their observed and expected counts (a
 * small grouped bar chart for each flagged person with such labels), the confusions with others on consensus images,
 * and the flags' sentences. A person opens the grid at ?annotator=, a label at ?annotator=&label=. The significance
 * level and the least objects live in the page's address (?alpha=, ?minObjects=).
 */
export class BiasSection {
  report: BiasReport | undefined;
  alpha: string;
  minObjects: string;
  private error = '';
  private loading = false;
  private seq = 0;
  private disposed = false;
  private readonly charts = new Map<string, { host: HTMLDivElement; canvas: HTMLCanvasElement; chart?: BarChart }>();

  constructor(private readonly projectId: string, query: URLSearchParams, private readonly labelId: (name: string) => string | undefined,
    private readonly changed: () => void, private readonly keepInUrl: () => void) {
    this.alpha = query.get('alpha') ?? '';
    this.minObjects = query.get('minObjects') ?? '';
  }

  /** ?alpha= and ?minObjects= when set (for the request and the page's address). */
  params(q = new URLSearchParams()): URLSearchParams {
    if (this.alpha) q.set('alpha', this.alpha);
    if (this.minObjects) q.set('minObjects', this.minObjects);
    return q;
  }

  async load(): Promise<void> {
    const seq = ++this.seq;
    this.loading = true;
    this.changed();
    try {
      const next = await api.bias(this.projectId, this.params());
      if (seq !== this.seq || this.disposed) return;
      this.report = next;
      this.error = '';
    } catch (err) {
      if (seq !== this.seq || this.disposed) return;
      this.report = undefined;
      this.error = (err as Error).message;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
    this.changed();
  }

  private grid(user: string, label?: string): string {
    const id = label ? this.labelId(label) : undefined;
    return gridHref(this.projectId, id ? { annotator: user, label: id } : { annotator: user });
  }

  /** The canvas of a flagged person's chart (kept across renders). */
  private chartBox(user: string) {
    let box = this.charts.get(user);
    if (!box) {
      const host = document.createElement('div');
      host.className = 'chart-box bias-chart-box';
      host.style.height = '160px';
      const canvas = document.createElement('canvas');
      canvas.className = 'bias-chart';
      canvas.dataset.user = user;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${user}: the labels that drive the difference, their count against the count expected`);
      host.append(canvas);
      box = { host, canvas };
      this.charts.set(user, box);
    }
    return box.host;
  }

  private charted(): AnnotatorBiasRow[] {
    return (this.report?.annotators ?? []).filter(r => r.flags.length && r.labels.length);
  }

  /** Draws (or updates) the charts of the flagged people; drops the charts of people no longer shown. */
  showCharts(): void {
    const rows = this.charted();
    for (const [user, box] of this.charts) if (!rows.some(r => r.user === user)) { box.chart?.destroy(); this.charts.delete(user); }
    if (rows.length === 0 || this.disposed) return;
    import('./analytics-charts').then(({ BarChart, palette }) => {
      if (this.disposed) return;
      for (const row of this.charted()) {
        const box = this.charts.get(row.user);
        if (!box) continue;
        box.chart ??= new BarChart(box.canvas, {
          valueTitle: 'objects',
          onPick: i => { const l = this.charted().find(r => r.user === row.user)?.labels[i]; if (l) navigate(this.grid(row.user, l.label)); },
        });
        box.chart.show(row.labels.map(l => l.label), [
          { label: 'theirs', data: row.labels.map(l => l.theirs), color: palette[0] },
          { label: 'expected', data: row.labels.map(l => Math.round(l.expected * 10) / 10), color: palette[7] },
        ]);
      }
    }, err => toast(`The charts cannot be shown: ${(err as Error).message}`, true));
  }

  private set(patch: { alpha?: string; minObjects?: string }): void {
    Object.assign(this, patch);
    this.keepInUrl();
    this.load();
  }

  render(): TemplateResult {
    const r = this.report;
    const rows = [...(r?.annotators ?? [])].sort(order);
    const min = r?.minObjects ?? 20;
    const untested = `Not tested: fewer than ${min} objects from them or from the rest of the team`;
    const value = (e: Event) => (e.target as HTMLInputElement).value.trim();
    return html`<section class="card bias" aria-label="Label mix and box sizes against the team">
      <h3>Label mix and box sizes against the team <span class="muted">each person's objects as submitted against everyone else's (χ² test)</span></h3>
      <p class="quality-controls bias-controls">
        <label title="A difference is flagged when its p-value is below this (0 to 1; 0.001 by default)">flag at p below
          <input type="number" class="narrow-number" aria-label="Significance level" min="0" max="1" step="any" placeholder="0.001" .value=${this.alpha}
            @change=${(e: Event) => this.set({ alpha: value(e) })} /></label>
        <label title="The test is made when both the person and the rest have at least this many objects (20 by default)">least objects
          <input type="number" class="narrow-number" aria-label="Least objects" min="1" step="1" placeholder="20" .value=${this.minObjects}
            @change=${(e: Event) => this.set({ minObjects: value(e) })} /></label>
        ${this.loading ? html`<span class="muted">loading…</span>` : ''}
      </p>
      ${this.error ? html`<p class="error" role="alert">Not read: ${this.error}</p>` : ''}
      ${r && rows.length === 0 ? html`<p class="muted">Nobody has submitted any shapes yet.</p>` : ''}
      ${rows.length ? html`<div class="table-scroll"><table class="work-table bias-table">
        <thead><tr><th scope="col">Person</th><th scope="col" title="Objects they submitted (first submission of each image)">Objects</th>
          <th scope="col" title="p-value of their label mix against the rest's">Label mix p</th><th scope="col" title="p-value of their box sizes against the rest's (quintiles of the rest's log areas)">Box sizes p</th>
          <th scope="col" title="Labels whose standardised residual is above 2 in size: their count against the count expected">Labels that drive it</th>
          <th scope="col" title="On images several people labelled: their label where others put another">Confusions with others</th></tr></thead>
        <tbody>${rows.map(row => html`<tr data-user=${row.user} class=${row.flags.length ? 'flagged' : ''}>
          <th scope="row"><a href=${this.grid(row.user)} title="The images ${row.user} submitted, in the project's grid">${row.user}</a></th>
          <td data-col="objects">${row.objects}</td>
          <td data-col="labelP" title=${row.labelP == null ? untested : `χ² ${row.labelChiSquare?.toFixed(2)}, ${row.labelDof} degree(s) of freedom`}>${pValue(row.labelP)}</td>
          <td data-col="sizeP" title=${row.sizeP == null ? untested : `χ² ${row.sizeChiSquare?.toFixed(2)}, ${row.sizeDof} degree(s) of freedom`}>${pValue(row.sizeP)}</td>
          <td data-col="labels">${row.labels.map(l => html`<a class="chip bias-label ${l.residual > 0 ? 'more' : 'fewer'}" data-label=${l.label} href=${this.grid(row.user, l.label)}
            title=${`${row.user}'s images with ${l.label}; standardised residual ${l.residual > 0 ? '+' : ''}${l.residual.toFixed(1)}`}>${l.label} ${l.theirs} vs ${l.expected.toFixed(1)}</a>`)}</td>
          <td data-col="confusions">${row.confusions.map(c => html`<span class="chip bias-confusion" title="${c.count} time(s) ${row.user} put ${c.theirs} where others put ${c.others}">${c.theirs} for ${c.others} ×${c.count}</span>`)}</td>
        </tr>`)}</tbody></table></div>` : ''}
      ${rows.some(x => x.flags.length) ? html`<ul class="bias-flags">${rows.filter(x => x.flags.length).map(row => html`<li data-user=${row.user}>
        <strong>${row.user}</strong>: ${row.flags.join('; ')} <a href=${this.grid(row.user)}>their images →</a>
        ${row.labels.length ? html`<figure class="bias-figure">${this.chartBox(row.user)}<figcaption class="muted small">Theirs against expected; click a label for their images with it.</figcaption></figure>` : ''}
      </li>`)}</ul>` : ''}
      ${rows.some(x => x.labelP == null) ? html`<p class="muted small">—: ${untested.slice('Not tested: '.length)}; lower “least objects” to test anyway.</p>` : ''}
    </section>`;
  }

  destroy(): void {
    this.disposed = true;
    for (const box of this.charts.values()) box.chart?.destroy();
    this.charts.clear();
  }
}
