import { html, render } from 'lit';
import { api, type PeopleReport, type PersonKpis, type Project, type QualityScored } from '../api';
import { guidelinesApi } from '../guidelines/guidelines-api';
import { gridHref } from '../image-filters';
import { ProjectEvents } from '../live-events';
import { navigate } from '../navigation';
import { atLeast, projectRole, userMenu, withArticle, type Role } from '../session';
import { toast } from '../toast';
import type { BarChart, ScatterChart } from './analytics-charts';
import { BiasSection } from './people-bias';

/** A column of the table: its key, header, what it means, and how a value reads. */
interface Column { key: string; text: string; title: string; value: (p: PersonKpis) => number | string | null; show: (p: PersonKpis) => string }

const num = (v: number | null | undefined, digits = 0) => (v == null ? '—' : v.toFixed(digits));
const share = (v: number | null | undefined) => (v == null ? '—' : `${Math.round(v * 100)}%`);
/** 95 s → "1:35"; 4000 s → "1:06:40". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '—';
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

const columns: Column[] = [
  { key: 'imagesSubmitted', text: 'Images', title: 'Distinct images they submitted in the range', value: p => p.imagesSubmitted, show: p => String(p.imagesSubmitted) },
  { key: 'objectsCreated', text: 'Created', title: 'Objects they created', value: p => p.objectsCreated, show: p => String(p.objectsCreated) },
  { key: 'objectsEdited', text: 'Edited', title: 'Objects they changed or deleted', value: p => p.objectsEdited, show: p => String(p.objectsEdited) },
  { key: 'activeSeconds', text: 'Active', title: 'Active time in the editor (h:mm:ss; gaps over the project\'s cutoff and hidden time do not count)', value: p => p.activeSeconds, show: p => duration(p.activeSeconds) },
  { key: 'objectsPerActiveHour', text: 'Obj/h', title: 'Objects created and edited per active hour', value: p => p.objectsPerActiveHour, show: p => num(p.objectsPerActiveHour) },
  { key: 'meanActiveSecondsPerImage', text: 'Per image', title: 'Mean active time per image they worked on', value: p => p.meanActiveSecondsPerImage, show: p => duration(p.meanActiveSecondsPerImage) },
  { key: 'firstPassAcceptance', text: '1st pass', title: 'Of their first-round submissions a reviewer decided on, the share approved first time (how many were decided)', value: p => p.firstPassAcceptance, show: p => `${share(p.firstPassAcceptance)}${p.firstPassReviewed ? ` of ${p.firstPassReviewed}` : ''}` },
  { key: 'proposalsAcceptedUnchanged', text: 'As proposed', title: 'Of the model proposals they decided on (accepted, edited, relabeled or rejected), the share accepted unchanged (how many were decided)', value: p => p.proposalsAcceptedUnchanged, show: p => share(p.proposalsAcceptedUnchanged) },
  { key: 'reworkRounds', text: 'Rework', title: 'Rejections of their work, with the reasons', value: p => p.reworkRounds, show: p => String(p.reworkRounds) },
  { key: 'gtF1', text: 'GT F1', title: 'F1 against ground truth (IoU 0.5, first submissions, honeypots included)', value: p => p.gtF1, show: p => num(p.gtF1, 3) },
  { key: 'agreement', text: 'Agreement', title: 'Mean consensus agreement of the images they labelled a copy of', value: p => p.agreement, show: p => num(p.agreement, 3) },
  { key: 'leases', text: 'Leases', title: 'Annotate leases they took', value: p => p.leases, show: p => String(p.leases) },
  { key: 'skipRate', text: 'Skips', title: 'Leases they released themselves, and their share of leases', value: p => p.skipRate, show: p => `${p.skips}${p.skipRate != null && p.leases ? ` (${share(p.skipRate)})` : ''}` },
  { key: 'medianLeaseToSubmitSeconds', text: 'Lease→submit', title: 'Median time from their lease of an image to its submission', value: p => p.medianLeaseToSubmitSeconds, show: p => duration(p.medianLeaseToSubmitSeconds) },
  { key: 'medianSubmitToApprovedSeconds', text: 'Submit→approved', title: 'Median time from a submission to its approval', value: p => p.medianSubmitToApprovedSeconds, show: p => duration(p.medianSubmitToApprovedSeconds) },
];

interface Sort { key: string; descending: boolean }

/** A flag's words up to its figures ("fast with a low GT F1"), for the table; the whole sentence is its title and in "Worth a look". */
const flagName = (flag: string) => flag.split(/ \(|:/)[0];

/** Reloads on live figures at most this often. */
const liveEvery = 3000;

/**
 * People (issue #24), /projects/{id}/people?from=&to=&guidelineVersion=: each person's KPIs (docs/analytics.md) over a
 * date range and guideline version, as a sortable table with the flags worth a look, a CSV of the same, and two charts
 * (objects per active hour against GT F1; images submitted and first-pass acceptance). A click on a person's point,
 * bar or "images" link opens the project grid filtered to the images they submitted (?annotator=). Owners see
 * everyone; everyone else their own row. New quality figures reload it (reviewers and owners), and Refresh does.
 * Below, each person's label mix and box sizes against the team (people-bias.ts; ?alpha=, ?minObjects=).
 */
export function peoplePage(root: HTMLElement, projectId: string): () => void {
  const query = new URLSearchParams(location.search);
  let from = query.get('from') ?? '', to = query.get('to') ?? '', guidelineVersion = query.get('guidelineVersion') ?? '';
  let project: Project | undefined;
  let role: Role | undefined;
  let report: PeopleReport | undefined;
  let versions: string[] = [];
  let loading = false;
  let error = '';
  let updatedAt: Date | undefined;
  let sort: Sort = { key: 'imagesSubmitted', descending: true };
  let disposed = false;
  let scatter: ScatterChart | undefined, bars: BarChart | undefined;

  const canvas = (cls: string, label: string) => {
    const host = document.createElement('div');
    host.className = 'chart-box';
    const c = document.createElement('canvas');
    c.className = cls;
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', label);
    host.append(c);
    return { host, canvas: c };
  };
  const scatterBox = canvas('people-scatter', 'Objects per active hour against GT F1, one point per person');
  const barsBox = canvas('people-bars', 'Images submitted and first-pass acceptance per person');

  const drill = (user: string) => navigate(gridHref(projectId, { annotator: user }));
  const bias = new BiasSection(projectId, query, name => project?.labels.find(l => l.name === name)?.id,
    () => { draw(); bias.showCharts(); }, () => keepInUrl());

  const params = () => {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    if (guidelineVersion) q.set('guidelineVersion', guidelineVersion);
    return q;
  };
  const csvHref = () => { const q = params(); q.set('format', 'csv'); return `/api/projects/${projectId}/analytics/people?${q}`; };
  /** The choices stay in the address (a reload or a shared link shows the same figures). */
  const keepInUrl = () => { const q = bias.params(params()).toString(); history.replaceState(history.state, '', `/projects/${projectId}/people${q ? `?${q}` : ''}`); };

  let loadSeq = 0, lastLoad = 0;
  /** Reads the figures again (and the bias report, which the range does not change, unless withBias is false). */
  const load = async (say?: string, withBias = true) => {
    if (withBias) bias.load();
    const seq = ++loadSeq;
    lastLoad = Date.now();
    loading = true;
    draw();
    try {
      const next = await api.people(projectId, params());
      if (seq !== loadSeq || disposed) return;
      report = next;
      error = '';
      updatedAt = new Date();
      if (say) toast(say);
    } catch (err) {
      if (seq !== loadSeq || disposed) return;
      error = (err as Error).message;
      report = undefined;
      toast(`People figures not read: ${error}`, true);
    } finally {
      if (seq === loadSeq) loading = false;
    }
    draw();
    showCharts();
  };

  const sorted = (): PersonKpis[] => {
    const people = [...(report?.people ?? [])];
    const column = columns.find(c => c.key === sort.key);
    const value = (p: PersonKpis) => (column ? column.value(p) : p.user);
    return people.sort((a, b) => {
      const va = value(a), vb = value(b);
      if (va == null && vb == null) return a.user.localeCompare(b.user);
      if (va == null) return 1; // no figure: last, whichever way
      if (vb == null) return -1;
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
      return (sort.descending ? -c : c) || a.user.localeCompare(b.user);
    });
  };

  const showCharts = () => {
    if (!report || report.people.length === 0 || disposed) return;
    import('./analytics-charts').then(({ BarChart, ScatterChart, palette }) => {
      if (disposed || !report) return;
      scatter ??= new ScatterChart(scatterBox.canvas, { x: 'objects per active hour', y: 'GT F1', yMax: 1 }, drill);
      bars ??= new BarChart(barsBox.canvas, { onPick: i => { const p = sorted()[i]; if (p) drill(p.user); }, valueTitle: 'images submitted', rightTitle: 'first-pass acceptance' });
      const people = sorted();
      scatter.show(people.filter(p => p.objectsPerActiveHour != null && p.gtF1 != null).map(p => ({ name: p.user, x: p.objectsPerActiveHour!, y: p.gtF1! })));
      bars.show(people.map(p => p.user), [
        { label: 'images submitted', data: people.map(p => p.imagesSubmitted), color: palette[0] },
        { label: 'first-pass acceptance', data: people.map(p => p.firstPassAcceptance ?? null), color: palette[2], right: true },
      ]);
    }, err => toast(`The charts cannot be shown: ${(err as Error).message}`, true));
  };

  // --- live: work landing (a submission, a review) or a scored submission changes the figures: read again, at most every 3 s

  let liveTimer: number | undefined;
  const changed = (what: string) => {
    if (liveTimer !== undefined) return;
    liveTimer = window.setTimeout(() => { liveTimer = undefined; load(`People updated: ${what}`); }, Math.max(0, lastLoad + liveEvery - Date.now()));
  };
  const events = new ProjectEvents(projectId);
  events.onQuality = (q: QualityScored) => changed(`${q.annotator} submitted`);
  events.onWork = (_image, kind) => changed(`an image was ${kind}`);
  events.onReconnected = () => { load(); };

  // --- rendering

  const setRange = (f: string, t: string) => { from = f; to = t; keepInUrl(); load(undefined, false); };
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const today = () => new Date().toISOString().slice(0, 10);

  const controls = () => html`
    <section class="card quality-controls people-controls" aria-label="Range">
      <label>From <input type="date" aria-label="From" .value=${from} max=${to || ''} @change=${(e: Event) => setRange((e.target as HTMLInputElement).value, to)} /></label>
      <label>To <input type="date" aria-label="To" .value=${to} min=${from || ''} @change=${(e: Event) => setRange(from, (e.target as HTMLInputElement).value)} /></label>
      <span class="presets">
        <button type="button" class="link" @click=${() => setRange(daysAgo(6), today())}>last 7 days</button>
        <button type="button" class="link" @click=${() => setRange(daysAgo(29), today())}>last 30 days</button>
        <button type="button" class="link" @click=${() => setRange('', '')}>all time</button></span>
      <label title="Only the submissions and edits made under this guideline version">Guideline version
        <select aria-label="Guideline version" @change=${(e: Event) => { guidelineVersion = (e.target as HTMLSelectElement).value; keepInUrl(); load(undefined, false); }}>
          <option value="" ?selected=${!guidelineVersion}>any</option>
          ${[...new Set([...versions, ...(guidelineVersion ? [guidelineVersion] : [])])].map(v => html`<option value=${v} ?selected=${v === guidelineVersion}>${v}</option>`)}
        </select></label>
      <button type="button" ?disabled=${loading} @click=${() => load('People figures read again')}>Refresh</button>
      <a class="button csv" href=${csvHref()} download title="The same figures as CSV, one row per person">Download CSV</a>
      <span class="muted summary" role="status">${report ? html`<strong>${report.people.length}</strong> ${report.people.length === 1 ? 'person' : 'people'}` : ''}
        ${loading ? ' · loading…' : updatedAt ? html` · <span class="updated">updated ${updatedAt.toLocaleTimeString()}</span>` : ''}</span>
    </section>`;

  const header = (key: string, text: string, title: string) => {
    const active = sort.key === key;
    return html`<th scope="col" title=${title} aria-sort=${active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="link sort" @click=${() => { sort = { key, descending: active ? !sort.descending : key !== 'user' }; draw(); showCharts(); }}>${text}${active ? (sort.descending ? ' ↓' : ' ↑') : ''}</button></th>`;
  };

  const reasons = (p: PersonKpis) => Object.entries(p.rejectReasons ?? {}).map(([r, n]) => `${r}: ${n}`).join(', ');
  /** A cell's own title: the rejections' reasons, how many proposals the share is of. */
  const cellTitle = (key: string, p: PersonKpis) => key === 'reworkRounds' ? reasons(p)
    : key === 'proposalsAcceptedUnchanged' ? `${p.proposalsDecided} proposal${p.proposalsDecided === 1 ? '' : 's'} decided` : '';

  const table = () => {
    if (!report) return '';
    if (report.people.length === 0) return html`<section class="card empty" aria-label="No figures"><p>Nobody took, submitted or worked on an image
      ${from || to ? 'in this range' : 'yet'}${guidelineVersion ? ` under guidelines ${guidelineVersion}` : ''}.</p></section>`;
    return html`<section class="card" aria-label="People"><div class="table-scroll">
      <table class="work-table quality-table people-table">
        <thead><tr>${header('user', 'Person', 'Sort by name')}${columns.map(c => header(c.key, c.text, c.title))}</tr></thead>
        <tbody>${sorted().map(p => html`<tr data-user=${p.user} class=${p.flags.length ? 'flagged' : ''}>
          <th scope="row" data-col="user"><a href=${gridHref(projectId, { annotator: p.user })} title="The images ${p.user} submitted, in the project's grid">${p.user}</a>
            ${p.flags.length ? html`<span class="flags" data-col="flags">${p.flags.map(f => html`<span class="chip flag-chip" title=${f}>${flagName(f)}</span>`)}</span>` : ''}</th>
          ${columns.map(c => html`<td data-col=${c.key} title=${cellTitle(c.key, p)}>${c.show(p)}</td>`)}
        </tr>`)}</tbody></table></div>
    </section>`;
  };

  /** Everyone with a flag, the flag's words in full, and their images one click away. */
  const flagged = () => {
    const people = (report?.people ?? []).filter(p => p.flags.length);
    if (people.length === 0) return '';
    return html`<section class="card worth-a-look" aria-label="Worth a look"><h3>Worth a look</h3><ul>
      ${people.map(p => html`<li data-user=${p.user}><strong>${p.user}</strong>: ${p.flags.join('; ')}
        <a href=${gridHref(projectId, { annotator: p.user })}>their images →</a></li>`)}</ul></section>`;
  };

  const labelsCard = () => {
    const people = (report?.people ?? []).filter(p => p.labels.length);
    if (people.length === 0) return '';
    return html`<details class="card per-label"><summary>Objects per label</summary><div class="table-scroll"><table class="work-table">
      <thead><tr><th scope="col">Person</th><th scope="col">Label</th><th scope="col">Created</th><th scope="col">Edited</th></tr></thead>
      <tbody>${people.flatMap(p => p.labels.map(l => html`<tr><td>${p.user}</td><td>${l.label}</td><td>${l.created}</td><td>${l.edited}</td></tr>`))}</tbody>
    </table></div></details>`;
  };

  const charts = () => {
    if (!report?.people.length) return '';
    const unplotted = report.people.filter(p => p.objectsPerActiveHour == null || p.gtF1 == null).map(p => p.user);
    return html`<div class="analytics-charts">
      <section class="card chart-card" aria-label="Speed and accuracy"><h3>Speed and accuracy <span class="muted">objects per active hour × GT F1</span></h3>
        ${scatterBox.host}
        <p class="muted small">${unplotted.length ? `Not plotted (no active time or no GT F1 yet): ${unplotted.join(', ')}. ` : ''}Click a point for that person's images.</p></section>
      <section class="card chart-card" aria-label="Output and acceptance"><h3>Output and acceptance <span class="muted">images submitted, first-pass acceptance</span></h3>
        ${barsBox.host}
        <p class="muted small">Click a bar for that person's images.</p></section>
    </div>`;
  };

  const draw = () => {
    if (disposed) return;
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><a href="/projects/${projectId}/work">My work</a><strong>People</strong>${atLeast(role, 'reviewer') ? html`<a href="/projects/${projectId}/health">Health</a>` : ''}${userMenu()}</header>
    <main class="page people-page quality-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${role && !atLeast(role, 'owner') ? html`<p class="muted card own-only">Your own figures (you are ${withArticle(role)}); owners see everyone's.</p>` : ''}
      ${controls()}
      ${charts()}
      ${flagged()}
      ${table()}
      ${bias.render()}
      ${labelsCard()}
      <p class="muted small">How each figure is measured: docs/analytics.md. Times are the server's, in UTC days.</p>
    </main>`, root);
  };

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; draw(); });
  projectRole(projectId).then(r => {
    role = r;
    draw();
    events.start().then(() => (atLeast(r, 'reviewer') ? events.startQuality() : undefined)).catch(() => toast('Live updates are unavailable; use Refresh', true));
  }).catch(() => {});
  guidelinesApi.current(projectId).then(g => { versions = g.versions.map(v => v.version); draw(); }).catch(() => {});
  load();
  return () => {
    disposed = true;
    window.clearTimeout(liveTimer);
    events.stop();
    scatter?.destroy();
    bars?.destroy();
    bias.destroy();
  };
}
