import { html, render } from 'lit';
import { api, type ModelWithProposals, type OutcomeReport, type Project } from '../api';
import { navigate } from '../navigation';
import { atLeast, projectRole, userMenu, type Role } from '../session';
import { toast } from '../toast';
import type { BarChart } from './analytics-charts';
import { bandHref, labelHref, outcomeSeries, thresholdsCard, timeSavedCard, totalsCard } from './model-outcomes';
import { PredictionsImportForm } from './predictions-import';

/**
 * Models in the loop (issue #25), /projects/{id}/models?model=: how the chosen model's proposals ended
 * (docs/models-in-the-loop.md), as a stacked bar per label (with the shapes people drew by hand beside it) and per score
 * band, the totals, each label's recommended threshold and the time saved. A label's bars open the project grid of the
 * images with that label and proposals still waiting; a band's bars the images with a model score in that band.
 * Every member may read it (the routes are viewer+). With no model's proposals yet, it says how to get some.
 */
export function modelsPage(root: HTMLElement, projectId: string): () => void {
  let modelId = new URLSearchParams(location.search).get('model') ?? '';
  let project: Project | undefined;
  let role: Role | undefined;
  let models: ModelWithProposals[] | undefined;
  let byLabel: OutcomeReport | undefined, byBand: OutcomeReport | undefined;
  let loading = false;
  let error = '';
  let disposed = false;
  const charts: { labels?: BarChart; bands?: BarChart } = {};

  const box = (cls: string, label: string) => {
    const host = document.createElement('div');
    host.className = 'chart-box';
    const canvas = document.createElement('canvas');
    canvas.className = cls;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
    host.append(canvas);
    return { host, canvas };
  };
  // Owners import a model's own predictions; the model then shows here (its outcomes counted from now on).
  const predictions = new PredictionsImportForm(projectId, () => draw(), model => { modelId = model; load(); });
  const labelsBox = box('model-labels', 'Proposals per label by how they ended, and the shapes drawn by hand');
  const bandsBox = box('model-bands', 'Proposals per score band by how they ended');

  /** The model stays in the address (a reload or a shared link shows the same model). */
  const keepInUrl = () => history.replaceState(history.state, '', `/projects/${projectId}/models${modelId ? `?model=${encodeURIComponent(modelId)}` : ''}`);

  let loadSeq = 0;
  /** Reads the models with proposals, then the chosen one's outcomes per label and per score band. */
  const load = async (say?: string) => {
    const seq = ++loadSeq;
    loading = true;
    draw();
    try {
      const list = await api.modelsWithProposals(projectId);
      if (seq !== loadSeq || disposed) return;
      models = list;
      if (modelId && !list.some(m => m.modelId === modelId)) {
        toast(`Model ${modelId} has no proposals in this project${list.length ? '; showing another' : ''}`, true);
        modelId = '';
      }
      modelId ||= list[0]?.modelId ?? '';
      keepInUrl();
      draw(); // the picker (or the empty state) while the outcomes load
      // Both groupings at once: the two charts (the totals and thresholds are the same in either).
      const [labels, bands] = modelId
        ? await Promise.all([api.modelOutcomes(projectId, modelId, 'label'), api.modelOutcomes(projectId, modelId, 'scoreBand')])
        : [undefined, undefined];
      if (seq !== loadSeq || disposed) return;
      [byLabel, byBand, error] = [labels, bands, ''];
      if (say) toast(say);
    } catch (err) {
      if (seq !== loadSeq || disposed) return;
      error = (err as Error).message;
      byLabel = byBand = undefined;
      toast(`Model outcomes not read: ${error}`, true);
    } finally {
      if (seq === loadSeq) loading = false;
    }
    draw();
    showCharts();
  };

  const showCharts = () => {
    if (!byLabel || !byBand || disposed) return;
    import('./analytics-charts').then(({ BarChart }) => {
      if (disposed || !byLabel || !byBand) return;
      const labelRows = byLabel.rows, bandRows = byBand.rows;
      charts.labels ??= new BarChart(labelsBox.canvas, {
        stacked: true, valueTitle: 'proposals',
        onPick: i => { const r = currentLabels[i]; if (r?.labelId) navigate(labelHref(projectId, r.labelId)); },
      });
      charts.bands ??= new BarChart(bandsBox.canvas, {
        stacked: true, valueTitle: 'proposals',
        onPick: i => { const b = currentBands[i]?.scoreBand; if (b != null) navigate(bandHref(projectId, b)); },
      });
      currentLabels = labelRows;
      currentBands = bandRows;
      charts.labels.show(labelRows.map(r => r.label ?? r.key), outcomeSeries(labelRows, true));
      // Missed shapes have no score: the bands show proposals only (the totals count the missed).
      charts.bands.show(bandRows.map(r => r.key), outcomeSeries(bandRows, false));
    }, err => toast(`The charts cannot be shown: ${(err as Error).message}`, true));
  };
  let currentLabels: OutcomeReport['rows'] = [], currentBands: OutcomeReport['rows'] = [];

  const pick = (id: string) => {
    modelId = id;
    keepInUrl();
    load();
  };

  // --- rendering

  const modelName = (m: ModelWithProposals) => m.name ?? m.modelId;

  const controls = () => html`
    <section class="card quality-controls models-controls" aria-label="Which model">
      <label title="The models whose proposals this project has (registered ones, or imported predictions by name)">Model
        <select aria-label="Model" ?disabled=${!models?.length} @change=${(e: Event) => pick((e.target as HTMLSelectElement).value)}>
          ${(models ?? []).map(m => html`<option value=${m.modelId} ?selected=${m.modelId === modelId}>${modelName(m)} (${m.proposals} proposal${m.proposals === 1 ? '' : 's'})</option>`)}
        </select></label>
      <button type="button" ?disabled=${loading || !models?.length} @click=${() => load('Model outcomes read again')}>Refresh</button>
      <a class="button" href="/projects/${projectId}/comparisons" title="Judge two or more models' outputs side by side, blinded; a leaderboard and the JSONL export">Compare models →</a>
      <span class="muted summary" role="status">${loading ? 'loading…' : byLabel ? html`<strong>${byLabel.modelName ?? byLabel.modelId}</strong>` : ''}</span>
    </section>`;

  const empty = () => html`<section class="card empty models-empty" aria-label="No proposals">
    <p>No model has proposed anything in this project yet.</p>
    <p class="muted">To see how a model's proposals end, pre-label the images with it: on the <a href="/projects/${projectId}">project page</a>,
      ${atLeast(role, 'owner') ? 'pick a model (or upload an .onnx one) and press Pre-label' : 'an owner picks a model and presses Pre-label'}.
      As people accept, edit, relabel or reject the proposals, this page counts them.</p>
  </section>`;

  const chartCards = () => html`<div class="analytics-charts">
    <section class="card chart-card" aria-label="Outcomes per label"><h3>Per label <span class="muted">proposals by how they ended; missed beside them</span></h3>
      ${labelsBox.host}<p class="muted small">Click a label's bars for its images with proposals waiting.</p></section>
    <section class="card chart-card" aria-label="Outcomes per score band"><h3>Per score band <span class="muted">the model's confidence, in bands of 0.1</span></h3>
      ${bandsBox.host}<p class="muted small">Click a band's bars for the images with a score in it and proposals waiting.</p></section>
  </div>`;

  const draw = () => {
    if (disposed) return;
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><a href="/projects/${projectId}/work">My work</a>${atLeast(role, 'annotator') ? html`<a href="/projects/${projectId}/people">People</a>` : ''}${atLeast(role, 'reviewer') ? html`<a href="/projects/${projectId}/health">Health</a>` : ''}<strong>Models</strong><a class="nav-comparisons" href="/projects/${projectId}/comparisons" title="Compare models side by side: blinded judgements, a leaderboard, the JSONL export">Comparisons</a>${userMenu()}</header>
    <main class="page models-page quality-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${controls()}
      ${models && models.length === 0 ? empty() : ''}
      ${atLeast(role, 'owner') ? predictions.render() : ''}
      ${byLabel && byBand ? html`${totalsCard(byLabel.totals)}${chartCards()}
        <div class="analytics-charts model-figures">${thresholdsCard(projectId, byLabel.thresholds)}${timeSavedCard(byLabel.timeSaved)}</div>` : ''}
      <p class="muted small">How each figure is measured: docs/models-in-the-loop.md.</p>
    </main>`, root);
  };

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; draw(); });
  projectRole(projectId).then(r => { role = r; draw(); }).catch(() => {});
  load();
  return () => {
    disposed = true;
    charts.labels?.destroy();
    charts.bands?.destroy();
  };
}
