import { html, render } from 'lit';
import {
  api, type GroundTruthReport, type GroundTruthSummary, type Project, type QualityGrouping, type QualityReport, type QualityRow, type QualityScored,
} from '../api';
import { ProjectEvents } from '../live-events';
import { navigate } from '../navigation';
import { atLeast, projectRole, userMenu, withArticle, type Role } from '../session';
import { toast } from '../toast';
import './ground-truth-flags';
import type { GroundTruthFlags } from './ground-truth-flags';
import type { ChartRow, QualityChart } from './quality-chart';
import { below, columns, fig, groupings, sortRows, type Column, type Sort } from './quality-columns';

/** The chart shows at most this many groups (the table's first, in its order); the table at most `tableLimit` rows. */
const chartLimit = 30, tableLimit = 500;
/** Live figures reload the report at most this often. */
const liveEvery = 2000;


/**
 * A project's quality (issue #23), /projects/{id}/quality, for reviewers and owners: each annotator's first
 * submissions scored against ground truth (docs/quality.md), grouped by annotator, label, image or guideline version at
 * an IoU threshold; a chart of precision, recall and F1, the confusions per annotator, and the table (a label below
 * the F1 it requires in red; owners set the requirement there). An image row opens the image. New submissions reload
 * the figures live (QualityScored). Owners import ground truth (COCO or YOLO zip) or remove it. Below the table, the
 * ground truth under question (ground-truth-flags.ts): shapes most submissions missed, each row opening its image.
 */
export function qualityPage(root: HTMLElement, projectId: string): () => void {
  const query = new URLSearchParams(location.search);
  let groupBy: QualityGrouping = groupings.some(([g]) => g === query.get('groupBy')) ? query.get('groupBy') as QualityGrouping : 'annotator';
  let iou = Math.min(1, Math.max(0.05, Number(query.get('iou')) || 0.5));
  let project: Project | undefined;
  let role: Role | undefined;
  let report: QualityReport | undefined;
  let loading = false;
  let error = '';
  let updatedAt: Date | undefined;
  /** The annotator whose confusions are shown, or the label row picked. */
  let selected: string | undefined;
  let sort: Sort | undefined;
  /** File names of the image rows (the report names images by id). */
  const names = new Map<string, string>();
  let summary: GroundTruthSummary | undefined;
  let gtMessage = '';
  let gtBusy = false;
  let gtReport: GroundTruthReport | undefined;
  let chart: QualityChart | undefined;
  let disposed = false;

  const owner = () => atLeast(role, 'owner');
  const fail = (what: string) => (err: unknown) => { toast(`${what}: ${(err as Error).message}`, true); };

  // The chart's canvas lives outside lit's template (Chart.js owns it); the page places its host.
  const chartHost = document.createElement('div');
  chartHost.className = 'chart-box';
  const canvas = document.createElement('canvas');
  canvas.className = 'quality-chart';
  canvas.setAttribute('role', 'img');
  chartHost.append(canvas);
  // Ground truth under question: its own element, read again with the report (its IoU is the page's).
  const flags = document.createElement('vl-ground-truth-flags') as GroundTruthFlags;
  flags.projectId = projectId;
  flags.iou = iou;

  // --- the report

  let loadSeq = 0;
  let lastLoad = 0;
  const load = async () => {
    const seq = ++loadSeq;
    lastLoad = Date.now();
    loading = true;
    draw();
    try {
      const next = await api.quality(projectId, groupBy, iou);
      if (seq !== loadSeq || disposed) return; // a newer request (another grouping or threshold) wins
      report = next;
      error = '';
      updatedAt = new Date();
      if (groupBy === 'annotator' && !report.rows.some(r => r.key === selected))
        selected = (report.rows.find(r => r.confusions?.length) ?? report.rows[0])?.key;
      if (groupBy === 'image') await loadNames(report.rows.map(r => r.key));
    } catch (err) {
      if (seq !== loadSeq) return;
      error = (err as Error).message;
      report = undefined;
    } finally {
      if (seq === loadSeq) loading = false;
    }
    draw();
    showChart();
  };

  /** File names for image rows: the project's image list, a page of 1000 at a time, then one by one for the rest. */
  const loadNames = async (ids: string[]) => {
    let missing = ids.filter(id => !names.has(id));
    for (let offset = 0; missing.length > 0 && offset < 10_000;) {
      const page = await api.images(projectId, offset, 1000);
      for (const i of page.items) names.set(i.id, i.fileName);
      missing = missing.filter(id => !names.has(id));
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) break;
    }
    await Promise.all(missing.slice(0, 100).map(id => api.image(id).then(i => { names.set(i.id, i.fileName); }, () => {})));
  };

  const rowName = (r: QualityRow) => (groupBy === 'image' ? names.get(r.key) ?? `image ${r.key.slice(0, 8)}` : r.key);

  const sortedRows = (): QualityRow[] => sortRows(report?.rows ?? [], groupBy, sort, rowName);

  const showChart = () => {
    if (!report || report.rows.length === 0 || disposed) return;
    canvas.setAttribute('aria-label', `Precision, recall and F1 by ${groupings.find(([g]) => g === groupBy)?.[1]}`);
    const rows: ChartRow[] = sortedRows().slice(0, chartLimit).map(r => ({
      label: rowName(r), precision: r.precision, recall: r.recall, f1: r.f1, required: r.requiredF1 ?? null,
    }));
    if (chart) { chart.show(rows); return; }
    // Chart.js is loaded with the first chart (its own bundle).
    import('./quality-chart').then(({ QualityChart }) => {
      if (disposed) return;
      chart ??= new QualityChart(canvas, i => pick(sortedRows()[i]));
      showChart();
    }, fail('The chart cannot be shown'));
  };

  /** A click on a bar or a row: an image opens; an annotator shows their confusions; a label is picked. */
  const pick = (row: QualityRow | undefined) => {
    if (!row) return;
    if (groupBy === 'image') { navigate(`/images/${row.key}`); return; }
    selected = row.key;
    draw();
  };

  const setGrouping = (g: QualityGrouping) => {
    groupBy = g;
    sort = undefined;
    selected = undefined;
    keepInUrl();
    load();
  };
  const setIou = (value: number) => {
    if (!Number.isFinite(value)) return;
    iou = Math.min(1, Math.max(0.05, Math.round(value * 100) / 100));
    keepInUrl();
    flags.iou = iou;
    load();
  };
  /** The choices stay in the address (a reload or a shared link shows the same report). */
  const keepInUrl = () => history.replaceState(history.state, '', `/projects/${projectId}/quality?groupBy=${groupBy}&iou=${iou}`);

  // --- live: each scored submission reloads the report, at most every 2 s, and says so

  const pending: QualityScored[] = [];
  let liveTimer: number | undefined;
  const scored = (q: QualityScored) => {
    pending.push(q);
    if (liveTimer !== undefined) return;
    liveTimer = window.setTimeout(async () => {
      liveTimer = undefined;
      const figures = pending.splice(0);
      flags.refresh();
      await load();
      const q0 = figures[0];
      if (figures.length === 1 && !names.has(q0.imageId)) await api.image(q0.imageId).then(i => { names.set(i.id, i.fileName); }, () => {});
      if (disposed) return;
      const image = names.get(q0.imageId) ?? 'an image';
      // The live figure is scored at IoU 0.5 whatever the page shows; say so when the page shows another threshold.
      toast(figures.length === 1 ? `Quality updated: ${q0.annotator} submitted ${image} (F1 ${fig(q0.f1)}${iou === 0.5 ? '' : ' at IoU 0.50'})` : `Quality updated: ${figures.length} new submissions scored`);
    }, Math.max(0, lastLoad + liveEvery - Date.now()));
  };
  const events = new ProjectEvents(projectId);
  events.onQuality = scored;
  events.onReconnected = () => { load(); };
  events.start().then(() => events.startQuality()).catch(() => toast('Live figures are unavailable; use Refresh to read them again', true));

  // --- label requirements (owners)

  const setRequirement = async (name: string, current: number | null | undefined, input: HTMLInputElement) => {
    const label = project?.labels.find(l => l.name === name);
    if (!label) { toast(`No label named ${name} in this project now`, true); return; }
    const text = input.value.trim();
    const value = text === '' ? 0 : Number(text);
    try {
      await api.updateLabel(projectId, label.id, { requiredF1: value });
      toast(value === 0 ? `${label.name}: no F1 required any more` : `${label.name}: F1 of at least ${fig(value)} required`);
      project = await api.project(projectId);
      await load();
    } catch (err) {
      fail(`${label.name}: requirement not saved`)(err);
      input.value = current != null ? String(current) : '';
    }
  };

  // --- ground truth (owners import and remove; reviewers see the summary)

  const loadSummary = async () => {
    try { summary = await api.groundTruth(projectId); } catch { summary = undefined; }
    draw();
  };

  const importGroundTruth = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const file = data.get('zip') as File | null;
    if (!file || !file.size) { toast('Pick a COCO or YOLO .zip first', true); return; }
    const format = String(data.get('format')) as 'coco' | 'yolo';
    gtBusy = true;
    gtReport = undefined;
    gtMessage = 'uploading…';
    draw();
    try {
      const report = await api.importGroundTruth(projectId, format, file, (sent, total) => {
        gtMessage = sent < total ? `uploading ${Math.round((100 * sent) / total)}%` : 'matching images and labels…';
        draw();
      });
      gtReport = report;
      gtMessage = `Matched ${report.imagesMatched} image(s): ${report.annotations} shape(s)${report.crowd ? ` and ${report.crowd} crowd region(s)` : ''}` +
        `${report.skipped.length ? `; ${report.skipped.length} skipped` : ''}`;
      toast(`Ground truth imported: ${gtMessage}`, report.imagesMatched === 0);
      form.reset();
      await Promise.all([loadSummary(), load(), flags.refresh()]);
    } catch (err) {
      gtMessage = '';
      fail('Ground truth not imported')(err);
    } finally { gtBusy = false; draw(); }
  };

  const removeGroundTruth = async () => {
    if (!confirm('Remove all of this project\'s ground truth? Nothing is scored until there is some again.')) return;
    try {
      await api.removeGroundTruth(projectId);
      gtReport = undefined;
      gtMessage = '';
      toast('Ground truth removed: nothing is scored until there is some again');
      await Promise.all([loadSummary(), load(), flags.refresh()]);
    } catch (err) { fail('Ground truth not removed')(err); }
  };

  // --- rendering

  const controls = () => html`
    <section class="card quality-controls" aria-label="Report choices">
      <label>Group by <select aria-label="Group by" @change=${(e: Event) => setGrouping((e.target as HTMLSelectElement).value as QualityGrouping)}>
        ${groupings.map(([g, text]) => html`<option value=${g} ?selected=${g === groupBy}>${text}</option>`)}</select></label>
      <label title="A submitted shape matches a ground-truth shape when their IoU is at least this">IoU threshold
        <input type="range" min="0.05" max="1" step="0.05" aria-label="IoU threshold" .value=${String(iou)}
          @input=${(e: Event) => { const out = (e.target as HTMLElement).nextElementSibling; if (out) out.textContent = Number((e.target as HTMLInputElement).value).toFixed(2); }}
          @change=${(e: Event) => setIou(Number((e.target as HTMLInputElement).value))} />
        <output class="iou-value">${iou.toFixed(2)}</output></label>
      <button type="button" ?disabled=${loading} @click=${() => Promise.all([load(), loadSummary(), flags.refresh()]).then(() => { if (!error) toast('Quality figures read again'); })}>Refresh</button>
      <span class="muted summary" role="status">${report ? html`<strong>${report.submissions}</strong> submission(s) scored at IoU ≥ ${report.iou.toFixed(2)}` : ''}
        ${loading ? ' · loading…' : updatedAt ? html` · <span class="updated">updated ${updatedAt.toLocaleTimeString()}</span>` : ''}</span>
    </section>`;

  const chartCard = () => {
    const rows = report?.rows.length ?? 0;
    return html`<section class="card chart-card" aria-label="Chart">
      <h3>Precision, recall and F1 <span class="muted">by ${groupings.find(([g]) => g === groupBy)?.[1]}</span></h3>
      ${rows > chartLimit ? html`<p class="muted small">The first ${chartLimit} of ${rows} rows, in the table's order${groupBy === 'image' && !sort ? ' (lowest F1 first)' : ''}.</p>` : ''}
      ${chartHost}
      <p class="muted small">${groupBy === 'image' ? 'Click a bar or a row to open the image.' : groupBy === 'annotator' ? 'Click a bar or a row for that annotator\'s confusions.' : ''}</p>
    </section>`;
  };

  /** The confusions of one annotator as a grid (truth label × submitted label), darker for more. */
  const confusionCard = () => {
    if (groupBy !== 'annotator' || !report?.rows.length) return '';
    const row = report.rows.find(r => r.key === selected) ?? report.rows[0];
    const pairs = row.confusions ?? [];
    const truths = [...new Set(pairs.map(c => c.truthLabel))].sort(), submitted = [...new Set(pairs.map(c => c.submittedLabel))].sort();
    const max = Math.max(1, ...pairs.map(c => c.count));
    const count = (t: string, s: string) => pairs.find(c => c.truthLabel === t && c.submittedLabel === s)?.count ?? 0;
    return html`<section class="card confusions" aria-label="Confusions">
      <h3>Confusions of <select aria-label="Annotator" @change=${(e: Event) => { selected = (e.target as HTMLSelectElement).value; draw(); }}>
        ${report.rows.map(r => html`<option value=${r.key} ?selected=${r.key === row.key}>${r.key}</option>`)}</select></h3>
      ${pairs.length === 0 ? html`<p class="muted">No confusions: where ${row.key}'s shapes met a ground-truth shape at IoU ≥ ${iou.toFixed(2)}, the labels agreed.</p>` : html`
        <div class="table-scroll"><table class="confusion-grid" data-annotator=${row.key}>
          <thead><tr><th class="corner" title="rows: the ground truth's label; columns: the label submitted">truth ↓ · submitted →</th>${submitted.map(s => html`<th scope="col">${s}</th>`)}</tr></thead>
          <tbody>${truths.map(t => html`<tr><th scope="row">${t}</th>${submitted.map(s => {
            const n = count(t, s);
            return html`<td data-truth=${t} data-submitted=${s} title=${n ? `${n} ${t} submitted as ${s}` : ''}
              style=${n ? `background: rgba(255, 90, 95, ${(0.2 + (0.8 * n) / max).toFixed(2)})` : ''}>${n || ''}</td>`;
          })}</tr>`)}</tbody></table></div>
        <p class="muted small">${pairs.slice(0, 3).map(c => `${c.truthLabel} taken for ${c.submittedLabel}: ${c.count}`).join(' · ')}</p>`}
    </section>`;
  };

  const header = (column: Column, text: string, title: string) => {
    const active = sort?.column === column;
    return html`<th scope="col" title=${title} aria-sort=${active ? (sort!.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="link sort" @click=${() => { sort = { column, descending: active ? !sort!.descending : column !== 'key' && column !== 'fp' && column !== 'fn' }; draw(); showChart(); }}>${text}${active ? (sort!.descending ? ' ↓' : ' ↑') : ''}</button></th>`;
  };

  /** A label's required F1: owners change it in place (empty or 0 removes it); others read it. */
  const requirement = (name: string, current: number | null | undefined) => !owner()
    ? (current != null ? fig(current) : html`<span class="muted">—</span>`)
    : html`<input type="number" min="0" max="1" step="0.05" placeholder="none" class="f1-input" aria-label="Required F1 for ${name}"
      title="The F1 this label must reach (0 to 1; empty or 0: none). Rows below it are red."
      .value=${current != null ? String(current) : ''} @click=${(e: Event) => e.stopPropagation()}
      @change=${(e: Event) => setRequirement(name, current, e.target as HTMLInputElement)} />`;

  /** Labels the report has no row for yet (nothing of theirs scored): their requirement can be set beforehand. */
  const unscoredLabels = () => {
    const labels = (project?.labels ?? []).filter(l => !report?.rows.some(r => r.key === l.name));
    if (groupBy !== 'label' || labels.length === 0) return '';
    return html`<p class="unscored muted small">No figures yet for ${labels.map(l => html`<span class="unscored-label">${l.name}
      <span class="muted">(required F1 ${requirement(l.name, l.requiredF1)})</span></span>`)}</p>`;
  };

  const table = () => {
    if (!report) return '';
    if (report.rows.length === 0) return html`<section class="card empty" aria-label="No figures"><p>No figures yet. Each annotator's first submission of an image is scored against
      its ground truth: ${owner() ? 'import ground truth (the Ground truth card), or open an approved image and use it as ground truth' : 'an owner imports ground truth, or uses approved images as ground truth'};
      submissions of images with ground truth then appear here as they are made.</p>${unscoredLabels()}</section>`;
    const rows = sortedRows(), shown = rows.slice(0, tableLimit);
    const labels = groupBy === 'label', annotators = groupBy === 'annotator';
    return html`<section class="card" aria-label="Figures"><div class="table-scroll">
      <table class="work-table quality-table" data-group=${groupBy}>
        <thead><tr>${header('key', groupings.find(([g]) => g === groupBy)![1].replace(/^./, c => c.toUpperCase()), 'Sort by name')}
          ${columns.map(([c, text, title]) => header(c, text, title))}
          ${labels ? html`<th scope="col" title="The F1 the label must reach; owners set it here">Required F1</th>` : ''}
          ${annotators ? html`<th scope="col">Top confusion</th>` : ''}</tr></thead>
        <tbody>${shown.map(r => html`<tr data-key=${r.key} class="${below(r) ? 'below' : ''} ${r.key === selected ? 'selected' : ''} clickable"
            @click=${() => pick(r)} title=${groupBy === 'image' ? 'Open the image' : annotators ? 'Show the confusions' : ''}>
          <th scope="row" data-col="key">${groupBy === 'image' ? html`<a href="/images/${r.key}">${rowName(r)}</a>` : r.key}
            ${below(r) ? html` <span class="chip below-chip" title="F1 ${fig(r.f1)} is below the required ${fig(r.requiredF1!)}">below ${fig(r.requiredF1!)}</span>` : ''}</th>
          <td data-col="images">${r.images}</td><td data-col="tp">${r.tp}</td><td data-col="fp">${r.fp}</td><td data-col="fn">${r.fn}</td>
          <td data-col="precision">${fig(r.precision)}</td><td data-col="recall">${fig(r.recall)}</td><td data-col="f1" data-value=${r.f1}><strong>${fig(r.f1)}</strong></td>
          <td data-col="accuracy">${fig(r.accuracy)}</td><td data-col="meanIoU">${fig(r.meanIoU)}</td>
          ${labels ? html`<td class="required">${requirement(r.key, r.requiredF1)}</td>` : ''}
          ${annotators ? html`<td class="muted">${r.confusions?.[0] ? `${r.confusions[0].truthLabel} → ${r.confusions[0].submittedLabel} ×${r.confusions[0].count}` : ''}</td>` : ''}
        </tr>`)}</tbody></table></div>
      ${rows.length > shown.length ? html`<p class="muted">${rows.length - shown.length} more row(s) not shown.</p>` : ''}
      ${unscoredLabels()}
    </section>`;
  };

  const groundTruthCard = () => html`
    <section class="card ground-truth" aria-label="Ground truth"><h3>Ground truth</h3>
      <p class="gt-summary">${summary ? html`<strong>${summary.images}</strong> image(s) with ground truth · <strong>${summary.annotations}</strong> shape(s)${summary.crowd
        ? html` · ${summary.crowd} crowd region(s) <span class="muted">(left out of scoring)</span>` : ''}` : html`<span class="muted">…</span>`}</p>
      <p class="muted small">Kept apart from the annotations: annotators never see it.</p>
      ${owner() ? html`
        <form aria-label="Import ground truth" @submit=${(e: SubmitEvent) => { e.preventDefault(); importGroundTruth(e.target as HTMLFormElement); }}>
          <label>Import <select name="format" aria-label="Ground truth format"><option value="coco">COCO</option><option value="yolo">YOLO</option></select></label>
          <input type="file" name="zip" accept=".zip" aria-label="Ground truth zip" />
          <button type="submit" class="primary" ?disabled=${gtBusy}>Import</button>
          <p class="muted small">A dataset zip, with or without the image files: images are matched by file name, labels by name; it replaces the ground truth of the images it names.</p>
        </form>
        ${gtMessage ? html`<p class="gt-status" role="status">${gtMessage}</p>` : ''}
        ${gtReport?.skipped.length ? html`<details class="gt-skipped" open><summary>Skipped (${gtReport.skipped.length})</summary><ul>
          ${gtReport.skipped.slice(0, 200).map(s => html`<li><strong>${s.item}</strong>: ${s.reason}</li>`)}
          ${gtReport.skipped.length > 200 ? html`<li class="muted">${gtReport.skipped.length - 200} more</li>` : ''}</ul></details>` : ''}
        ${gtReport?.notes.length ? html`<ul class="muted small">${gtReport.notes.map(n => html`<li>${n}</li>`)}</ul>` : ''}
        <button type="button" class="danger" ?disabled=${gtBusy || !summary?.images} @click=${removeGroundTruth}>Remove all ground truth</button>`
      : html`<p class="muted small">Owners import ground truth here, or make an approved image ground truth in the editor.</p>`}
    </section>`;

  const draw = () => {
    if (disposed) return;
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><a href="/projects/${projectId}/work">My work</a><strong>Quality</strong>${userMenu()}</header>
    <main class="page quality-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${role && !atLeast(role, 'reviewer') ? html`<p class="muted card">Quality figures are for reviewers and owners (you are ${withArticle(role)}).</p>` : ''}
      ${controls()}
      <div class="quality-columns">
        <div>${report?.rows.length ? chartCard() : ''}${table()}${atLeast(role, 'reviewer') ? flags : ''}</div>
        <div>${confusionCard()}${atLeast(role, 'reviewer') ? groundTruthCard() : ''}</div>
      </div>
    </main>`, root);
  };

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; draw(); });
  projectRole(projectId).then(r => { role = r; draw(); if (atLeast(r, 'reviewer')) loadSummary(); }).catch(() => {});
  load();
  return () => {
    disposed = true;
    window.clearTimeout(liveTimer);
    events.stop();
    chart?.destroy();
  };
}
