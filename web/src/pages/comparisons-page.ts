import { html, render } from 'lit';
import { api, type ComparisonReport, type ComparisonSummary, type Model, type Project } from '../api';
import { ProjectEvents } from '../live-events';
import { atLeast, projectRole, userMenu, type Role } from '../session';
import { toast } from '../toast';
import type { BarChart } from './analytics-charts';
import { leaderboardTable, judgementsTable, startForm, type StartForm } from './comparison-parts';

/**
 * Model comparison and preference (issue #25), /projects/{id}/comparisons?comparison=: the project's comparisons, a form
 * to start one (owners), and the chosen one's leaderboard — a chart of each model's win rate with its F1 against the
 * ground truth, a table with the Bradley–Terry score and interval — and its judgements, each opening its image. While its
 * job runs, the progress comes over /hubs/live. Reviewers judge from here ("Judge pairs"), and export the JSONL.
 */
export function comparisonsPage(root: HTMLElement, projectId: string): () => void {
  let selected = new URLSearchParams(location.search).get('comparison') ?? '';
  let project: Project | undefined;
  let role: Role | undefined;
  let models: Model[] = [];
  let list: ComparisonSummary[] | undefined;
  let report: ComparisonReport | undefined;
  let modelFilter = '';
  let error = '';
  let disposed = false;
  let chart: BarChart | undefined;
  const form: StartForm = { modelIds: new Set(), sampleSize: 20, sample: 'random', confidence: 0.25, name: '', busy: false };

  const host = document.createElement('div');
  host.className = 'chart-box';
  const canvas = document.createElement('canvas');
  canvas.className = 'leaderboard-chart';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', 'Win rate per model, with its F1 against the ground truth');
  host.append(canvas);

  const keepInUrl = () => history.replaceState(history.state, '', `/projects/${projectId}/comparisons${selected ? `?comparison=${selected}` : ''}`);

  let seq = 0;
  const load = async (say?: string) => {
    const mine = ++seq;
    try {
      const comparisons = await api.comparisons(projectId);
      if (mine !== seq || disposed) return;
      list = comparisons;
      if (selected && !comparisons.some(c => c.id === selected)) { toast('That comparison is not in this project', true); selected = ''; }
      selected ||= comparisons[0]?.id ?? '';
      keepInUrl();
      report = selected ? await api.comparison(projectId, selected) : undefined;
      if (mine !== seq || disposed) return;
      error = '';
      if (say) toast(say);
    } catch (err) {
      if (mine !== seq || disposed) return;
      error = (err as Error).message;
      toast(`Comparisons not read: ${error}`, true);
    }
    draw();
    showChart();
  };

  const showChart = () => {
    if (!report || disposed) return;
    import('./analytics-charts').then(({ BarChart, palette }) => {
      if (disposed || !report) return;
      const rows = report.leaderboard;
      chart ??= new BarChart(canvas, {
        horizontal: false, valueTitle: 'win rate %', rightTitle: 'F1 vs ground truth',
        onPick: i => { modelFilter = report?.leaderboard[i]?.modelId ?? ''; draw(); document.querySelector('.judgements-card')?.scrollIntoView({ block: 'nearest' }); },
      });
      chart.show(rows.map(r => r.name), [
        { label: 'win rate (ties half)', data: rows.map(r => (r.winRate == null ? null : Math.round(r.winRate * 1000) / 10)), color: palette[0] },
        { label: 'F1 vs ground truth', data: rows.map(r => r.groundTruth?.f1 ?? null), color: palette[1], right: true },
      ]);
    }, err => toast(`The chart cannot be shown: ${(err as Error).message}`, true));
  };

  const start = async () => {
    if (form.modelIds.size < 2) { toast('Pick at least two models to compare', true); return; }
    form.busy = true;
    draw();
    try {
      const started = await api.startComparison(projectId, {
        modelIds: [...form.modelIds], sampleSize: form.sampleSize, sample: form.sample, confidence: form.confidence, name: form.name || null,
      });
      selected = started.id;
      form.modelIds.clear();
      await load(`Comparison started: the models are running on ${started.total} images`);
    } catch (err) {
      toast(`Comparison not started: ${(err as Error).message}`, true);
    } finally {
      form.busy = false;
      draw();
    }
  };

  // Progress of a running comparison's job, and its end, over /hubs/live.
  const events = new ProjectEvents(projectId);
  events.onJob = job => {
    if (!report || job.id !== report.comparison.jobId) return;
    report = { ...report, comparison: { ...report.comparison, done: job.done, total: job.total } };
    if (job.status !== 'queued' && job.status !== 'running') load(job.status === 'completed' ? 'The models have run: the pairs are ready to judge' : undefined);
    else draw();
  };
  events.onReconnected = () => load();
  events.start().catch(() => {});

  const summaryCard = (c: ComparisonSummary) => html`
    <section class="card comparison-summary" aria-label="The comparison">
      <h3>${c.name} <span class="status-chip ${c.status}">${c.status}</span></h3>
      <p class="muted">${c.models.map(m => m.name).join(' · ')} — ${c.images} image${c.images === 1 ? '' : 's'} (${c.sample} sample), ${c.pairs} pair${c.pairs === 1 ? '' : 's'},
        <strong class="judgement-count">${c.judgements}</strong> judgement${c.judgements === 1 ? '' : 's'}; started by ${c.createdBy}.</p>
      ${c.status === 'running' ? html`<p role="status" class="comparison-progress">Running the models: ${c.done} of ${c.total} images
        <progress max=${c.total || 1} value=${c.done}></progress></p>` : ''}
      ${c.failed ? html`<p class="warning">${c.failed} image${c.failed === 1 ? '' : 's'} left out: a model could not run on ${c.failed === 1 ? 'it' : 'them'} (the job's failed items say why).</p>` : ''}
      ${c.status === 'failed' ? html`<p class="error" role="alert">The comparison failed: ${c.error}. Start a new one.</p>` : ''}
      <p class="actions">
        ${atLeast(role, 'reviewer') && c.status === 'ready'
          ? html`<a class="button primary judge-link" href="/projects/${projectId}/comparisons/${c.id}/judge" title="Judge pairs of outputs, blinded">Judge pairs →</a>` : ''}
        ${atLeast(role, 'owner') ? html`<a class="button export-link" href="/api/projects/${projectId}/comparisons/${c.id}/export" download="comparison-${c.id}.jsonl"
          title="Every judgement as one JSON line: image, models A and B, their outputs, choice, reasons, judge, guideline version, time">Export JSONL</a>` : ''}
        <button type="button" @click=${() => load('Leaderboard read again')}>Refresh</button>
      </p>
    </section>`;

  const draw = () => {
    if (disposed) return;
    const c = report?.comparison;
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><a href="/projects/${projectId}/models">Models</a><strong>Comparisons</strong>${userMenu()}</header>
    <main class="page comparisons-page quality-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <div class="comparison-top">
        ${atLeast(role, 'owner') ? startForm(form, models, () => draw(), start) : ''}
        <section class="card comparison-list" aria-label="Comparisons">
          <h3>Comparisons</h3>
          ${list?.length ? html`<select aria-label="Comparison" @change=${(e: Event) => { selected = (e.target as HTMLSelectElement).value; modelFilter = ''; chart?.destroy(); chart = undefined; load(); }}>
            ${list.map(x => html`<option value=${x.id} ?selected=${x.id === selected}>${x.name} — ${x.status}, ${x.judgements} judged</option>`)}</select>`
            : html`<p class="muted">${list ? `No comparison yet. ${atLeast(role, 'owner') ? 'Pick two or more models and start one.' : 'An owner starts one.'}` : 'loading…'}</p>`}
        </section>
      </div>
      ${c ? summaryCard(c) : ''}
      ${report && c?.status === 'ready' ? html`
        <div class="analytics-charts">
          <section class="card chart-card" aria-label="Leaderboard chart"><h3>Leaderboard <span class="muted">win rate, and F1 against the ground truth where there is some</span></h3>
            ${host}<p class="muted small">Click a model's bar for the judgements it was in.</p></section>
          ${leaderboardTable(report.leaderboard)}
        </div>
        ${judgementsTable(report, modelFilter, () => { modelFilter = ''; draw(); })}` : ''}
      <p class="muted small">How the leaderboard is computed: docs/models-in-the-loop.md.</p>
    </main>`, root);
  };

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; draw(); });
  projectRole(projectId).then(r => {
    role = r;
    draw();
    if (atLeast(r, 'owner')) api.models().then(m => { models = m; draw(); }).catch(err => toast(`Models not read: ${(err as Error).message}`, true));
  }).catch(() => {});
  load();
  return () => {
    disposed = true;
    events.stop();
    chart?.destroy();
  };
}
