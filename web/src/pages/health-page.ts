import { html, render } from 'lit';
import { api, utc, type Health, type Job, type Project } from '../api';
import { gridHref, idsHref, maxDrillIds } from '../image-filters';
import { ProjectEvents } from '../live-events';
import { navigate } from '../navigation';
import { atLeast, projectRole, userMenu, withArticle, type Role } from '../session';
import { toast } from '../toast';
import type { BarChart } from './analytics-charts';

type Heatmap = Health['heatmaps'][number];

/** How often a running job is asked about when no live progress arrives (the hub may be unreachable). */
const pollEvery = 1500;
/** After work lands: how long a quiet moment before a rerun, and the least time between two reruns this page starts. */
const quietFor = 5000, autoEvery = 60_000;
/** Pairs and outliers shown (the rest are counted). */
const pairLimit = 60, outlierLimit = 100;

/**
 * Dataset health (issue #24), /projects/{id}/health, for reviewers and owners: "Run health check" starts a run (a job;
 * its progress from JobProgress on /hubs/live, asked for too while none arrives), then the figures of GET …/health
 * (docs/analytics.md): class counts per export split (a bar opens the grid filtered to that label), objects per image,
 * image sizes, where each label's objects sit (a heatmap per label), near-duplicate pairs side by side with a "leak"
 * badge when the export puts them in different splits (a pair opens the grid with just those images), and box outliers
 * (each opens its image in the editor).
 */
export function healthPage(root: HTMLElement, projectId: string): () => void {
  let project: Project | undefined;
  let role: Role | undefined;
  let health: Health | undefined;
  let error = '';
  let job: Job | undefined;
  let starting = false;
  let disposed = false;
  let poll: number | undefined;
  let val = '', seed = '', maxDistance = '';
  const charts: { classes?: BarChart; objects?: BarChart; sizes?: BarChart } = {};

  const box = (cls: string, label: string, height?: number) => {
    const host = document.createElement('div');
    host.className = 'chart-box';
    if (height) host.style.height = `${height}px`;
    const canvas = document.createElement('canvas');
    canvas.className = cls;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
    host.append(canvas);
    return { host, canvas };
  };
  const classesBox = box('health-classes', 'Accepted annotations per label and export split', 200);
  const objectsBox = box('health-objects', 'Images by how many accepted annotations they have', 200);
  const sizesBox = box('health-sizes', 'The most common image sizes', 200);

  const running = () => !!job && (job.status === 'queued' || job.status === 'running');

  // --- reading and running

  const load = async () => {
    try {
      health = await api.health(projectId);
      error = '';
      if (health.status === 'running' && health.jobId && !running()) follow(await api.job(health.jobId));
      val ||= health.val != null ? String(health.val) : '';
      seed ||= health.seed != null ? String(health.seed) : '';
      maxDistance ||= health.maxDistance != null ? String(health.maxDistance) : '';
      const h = health;
      loadNames([...h.nearDuplicates.slice(0, pairLimit).flatMap(p => [p.imageA, p.imageB]), ...h.boxOutliers.slice(0, outlierLimit).map(o => o.imageId)]);
    } catch (err) {
      error = (err as Error).message;
      toast(`Health not read: ${error}`, true);
    }
    draw();
    showCharts();
  };

  /** The run's progress: from the live hub, and asked for while it runs; its end reads the figures. */
  const follow = (j: Job) => {
    job = j;
    draw();
    window.clearTimeout(poll);
    if (running()) { poll = window.setTimeout(() => api.job(j.id).then(jobChanged, () => {}), pollEvery); return; }
    finished(j);
  };
  const jobChanged = (j: Job) => { if (!disposed && job && j.id === job.id && (running() || j.status !== job.status)) follow(j); };

  let announced = '';
  const finished = async (j: Job) => {
    if (announced === j.id) return;
    announced = j.id;
    if (j.status !== 'completed') {
      toast(`Health check ${j.status}: ${j.lastError ?? 'no reason given'}`, true);
      await load();
      return;
    }
    await load();
    // The result is written just before the job completes: a read that still says running asks once more.
    if (health?.status === 'running') await new Promise(r => window.setTimeout(r, 500)).then(load);
    if (disposed || !health) return;
    toast(`Health check done: ${health.images} images, ${health.nearDuplicates.length} near-duplicate pair(s), ${health.leaks.length} leak(s), ${health.boxOutliers.length} box outlier(s)`);
  };

  // --- live: work landing changes the figures; while the page is open and "as work lands" is on, a rerun follows a
  // quiet moment (at most one per minute; the server answers an identical run already under way instead of a second).

  let landed = 0, rerunTimer: number | undefined, lastAuto = 0;
  let auto = localStorage.getItem('health-auto') !== 'off';
  const workLanded = () => {
    landed++;
    draw();
    if (!auto || !health?.computedAt) return;
    window.clearTimeout(rerunTimer);
    rerunTimer = window.setTimeout(() => {
      rerunTimer = undefined;
      if (disposed || running() || starting) return;
      lastAuto = Date.now();
      run();
    }, Math.max(quietFor, lastAuto + autoEvery - Date.now()));
  };

  const run = async () => {
    const body: { val?: number; seed?: number; maxDistance?: number } = {};
    if (val.trim()) body.val = Number(val);
    if (seed.trim()) body.seed = Number(seed);
    if (maxDistance.trim()) body.maxDistance = Number(maxDistance);
    starting = true;
    draw();
    try {
      const started = await api.runHealth(projectId, body);
      announced = '';
      landed = 0;
      toast('Health check started: hashing images, then the figures');
      follow(started);
    } catch (err) { toast(`Health check not started: ${(err as Error).message}`, true); }
    finally { starting = false; draw(); }
  };

  const events = new ProjectEvents(projectId);
  events.onJob = jobChanged;
  events.onWork = workLanded;
  events.onReconnected = () => { if (job) api.job(job.id).then(jobChanged, () => {}); };

  // --- charts (Chart.js, loaded with the first)

  const showCharts = () => {
    const h = health;
    if (!h || h.status === 'none' || disposed) return;
    import('./analytics-charts').then(({ BarChart, palette }) => {
      if (disposed || !health) return;
      const h = health;
      // Class counts: labels by their total, a bar per split (train first).
      const totals = new Map<string, { id: string; total: number }>();
      for (const c of h.classCounts) totals.set(c.label, { id: c.labelId, total: (totals.get(c.label)?.total ?? 0) + c.count });
      const labels = [...totals.entries()].sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]));
      const splits = [...new Set(h.classCounts.map(c => c.split))].sort((a, b) => (a === 'train' ? -1 : b === 'train' ? 1 : a.localeCompare(b)));
      if (labels.length) {
        charts.classes ??= new BarChart(classesBox.canvas, {
          onPick: i => { const l = currentLabels[i]; if (l) navigate(gridHref(projectId, { label: l.id })); }, valueTitle: 'accepted annotations',
        });
        currentLabels = labels.map(([name, l]) => ({ name, id: l.id }));
        charts.classes.show(labels.map(([name]) => name), splits.map((split, i) => ({
          label: split, color: palette[i % palette.length],
          data: labels.map(([name]) => h.classCounts.find(c => c.label === name && c.split === split)?.count ?? 0),
        })));
      }
      if (h.objectsPerImage.length) {
        charts.objects ??= new BarChart(objectsBox.canvas, { valueTitle: 'images', legend: false });
        const rows = [...h.objectsPerImage].sort((a, b) => a.objects - b.objects);
        charts.objects.show(rows.map(r => (r.objects >= 50 ? '50+' : String(r.objects))), [{ label: 'images', data: rows.map(r => r.images), color: palette[0] }]);
      }
      if (h.imageSizes.length) {
        charts.sizes ??= new BarChart(sizesBox.canvas, { horizontal: true, valueTitle: 'images', legend: false });
        const rows = [...h.imageSizes].sort((a, b) => b.images - a.images).slice(0, 8);
        charts.sizes.show(rows.map(r => `${r.width}×${r.height}`), [{ label: 'images', data: rows.map(r => r.images), color: palette[3] }]);
      }
    }, err => toast(`The charts cannot be shown: ${(err as Error).message}`, true));
  };
  let currentLabels: { name: string; id: string }[] = [];

  // --- rendering

  const fileNames = new Map<string, string>();
  /** File names for the images the pairs and outliers name (one list request with their ids). */
  const loadNames = async (ids: string[]) => {
    const missing = [...new Set(ids)].filter(id => !fileNames.has(id)).slice(0, maxDrillIds);
    if (missing.length === 0) return;
    try {
      const page = await api.images(projectId, 0, missing.length, { ids: missing.join(',') });
      for (const i of page.items) fileNames.set(i.id, i.fileName);
      draw();
    } catch { /* names are a nicety: ids are shown instead */ }
  };
  const name = (id: string) => fileNames.get(id) ?? `image ${id.slice(0, 8)}`;

  const controls = () => {
    const h = health;
    return html`<section class="card quality-controls health-controls" aria-label="Health check">
      <button type="button" class="primary run-health" ?disabled=${starting || running()} @click=${run}>Run health check</button>
      <label title="The val split's share, as the export takes it (0 to below 1)">val <input type="number" class="narrow-number" min="0" max="0.99" step="0.05" aria-label="Val share"
        placeholder="0.2" .value=${val} @change=${(e: Event) => { val = (e.target as HTMLInputElement).value; }} /></label>
      <label title="The export's split seed">seed <input type="number" class="narrow-number" step="1" aria-label="Split seed" placeholder="0" .value=${seed}
        @change=${(e: Event) => { seed = (e.target as HTMLInputElement).value; }} /></label>
      <label title="How many of the 64 perceptual-hash bits two near-duplicates may differ by (0 to 32)">max distance <input type="number" class="narrow-number" min="0" max="32" step="1"
        aria-label="Max distance" placeholder="10" .value=${maxDistance} @change=${(e: Event) => { maxDistance = (e.target as HTMLInputElement).value; }} /></label>
      ${running() && job ? html`<span class="health-progress"><progress max=${Math.max(1, job.total)} value=${job.done} aria-label="health check progress"></progress>
        <span class="job-status">${job.status === 'queued' ? 'queued…' : job.total ? `hashing: ${job.done} of ${job.total} images` : 'computing…'}</span></span>` : ''}
      <span class="muted summary health-status" role="status" data-status=${h?.status ?? ''}>${!h ? 'loading…'
        : h.status === 'none' && !h.computedAt ? 'Never run: run a health check to see the figures.'
        : html`${h.status === 'running' ? 'running · ' : ''}${h.computedAt ? html`computed <time datetime=${h.computedAt}>${utc(h.computedAt).toLocaleString()}</time>
          <span class="muted">(val ${h.val}, seed ${h.seed}, max distance ${h.maxDistance})</span>` : ''}`}
        ${h?.lastError ? html` · <span class="error">the latest run failed: ${h.lastError}</span>` : ''}
        ${landed ? html` · <span class="health-landed">${landed} change${landed === 1 ? '' : 's'} since this run${auto ? ': rerunning shortly' : ''}</span>` : ''}</span>
      <label class="health-auto" title="Rerun the health check after work lands (submissions, reviews) while this page is open: a few seconds after the last change, at most once a minute">
        <input type="checkbox" .checked=${auto} @change=${(e: Event) => { auto = (e.target as HTMLInputElement).checked; localStorage.setItem('health-auto', auto ? 'on' : 'off'); draw(); }} />
        as work lands</label>
    </section>`;
  };

  const stat = (label: string, value: number | string, title = '', cls = '') => html`<div class="stat ${cls}" title=${title}><strong>${value}</strong><span class="muted">${label}</span></div>`;
  const summary = (h: Health) => html`<section class="card health-summary" aria-label="Summary">
    ${stat('images', h.images)}${stat('accepted annotations', h.annotations)}
    ${stat('approved empty', h.approvedEmpty, 'Images a reviewer approved with no accepted annotation (real backgrounds)')}
    ${stat('never reviewed', h.neverReviewed, 'Images not approved that no reviewer has decided on')}
    ${stat('near-duplicate pairs', h.nearDuplicates.length, '', 'dups')}${stat('leaks', h.leaks.length, 'Near-duplicate pairs the export puts in different splits', h.leaks.length ? 'bad' : '')}
    ${stat('box outliers', h.boxOutliers.length)}${stat('unreadable', h.unhashed, 'Images whose file could not be read or decoded (left out of near-duplicates)', h.unhashed ? 'bad' : '')}
  </section>`;

  const chartCards = (h: Health) => html`<div class="analytics-charts three">
    <section class="card chart-card" aria-label="Class counts"><h3>Class counts <span class="muted">accepted, per export split</span></h3>
      ${h.classCounts.length ? html`${classesBox.host}<p class="muted small">Click a label's bars for its images.</p>` : html`<p class="muted">No accepted annotations yet.</p>`}</section>
    <section class="card chart-card" aria-label="Objects per image"><h3>Objects per image</h3>${h.objectsPerImage.length ? objectsBox.host : html`<p class="muted">No images.</p>`}</section>
    <section class="card chart-card" aria-label="Image sizes"><h3>Image sizes <span class="muted">the most common</span></h3>${h.imageSizes.length ? sizesBox.host : html`<p class="muted">No images.</p>`}</section>
  </div>`;

  const heatmaps = (h: Health) => !h.heatmaps.length ? '' : html`<section class="card heatmaps" aria-label="Where objects sit">
    <h3>Where objects sit <span class="muted">object centres per label, over the image</span></h3>
    <div class="heatmap-list">${h.heatmaps.map(m => html`<figure class="heatmap" data-label=${m.label}>${heatCanvas(m)}
      <figcaption><a href=${gridHref(projectId, { label: m.labelId })} title="Images with ${m.label}">${m.label}</a>
        <span class="muted">${m.counts.reduce((a, b) => a + b, 0)}</span></figcaption></figure>`)}</div>
  </section>`;

  const leakOf = (a: string, b: string) => health?.leaks.find(l => (l.imageA === a && l.imageB === b) || (l.imageA === b && l.imageB === a));

  const duplicates = (h: Health) => {
    const pairs = [...h.nearDuplicates].sort((x, y) => Number(!!leakOf(y.imageA, y.imageB)) - Number(!!leakOf(x.imageA, x.imageB)) || x.distance - y.distance);
    const all = pairs.flatMap(p => [p.imageA, p.imageB]);
    const leaked = h.leaks.flatMap(l => [l.imageA, l.imageB]);
    return html`<section class="card near-duplicates" aria-label="Near-duplicates">
      <h3>Near-duplicates <span class="muted">${pairs.length} pair(s) within ${h.maxDistance ?? 10} bits${h.leaks.length ? html`, <span class="error">${h.leaks.length} across splits</span>` : ''}</span>
        ${pairs.length ? html`<a class="small flagged-all dup-all" href=${gridHref(projectId, { flagged: 'duplicate' })} title=${`All ${new Set(all).size} images in near-duplicate pairs, in the grid`}>all in the grid →</a>` : ''}</h3>
      ${pairs.length === 0 ? html`<p class="muted">No two images look alike${h.unhashed ? ` (${h.unhashed} could not be read)` : ''}.</p>` : html`
        ${leaked.length ? html`<p class="small"><a class="leak-all" href=${idsHref(projectId, leaked, 'split leaks')}>The leaked ones in the grid →</a></p>` : ''}
        <div class="dup-list">${pairs.slice(0, pairLimit).map(p => {
          const leak = leakOf(p.imageA, p.imageB);
          return html`<a class="dup-pair ${leak ? 'leak' : ''}" data-a=${p.imageA} data-b=${p.imageB}
              href=${idsHref(projectId, [p.imageA, p.imageB], `near-duplicate pair (distance ${p.distance})`)} title="Open the pair in the grid">
            <img loading="lazy" src="/api/images/${p.imageA}/thumbnail" alt=${name(p.imageA)} /><img loading="lazy" src="/api/images/${p.imageB}/thumbnail" alt=${name(p.imageB)} />
            <span class="dup-facts">${name(p.imageA)} · ${name(p.imageB)}<br /><span class="muted">distance ${p.distance}</span>
              ${leak ? html`<span class="chip leak-badge" title="The export puts one in ${leak.splitA} and the other in ${leak.splitB}">leak: ${leak.splitA} / ${leak.splitB}</span>` : ''}</span>
          </a>`;
        })}</div>
        ${pairs.length > pairLimit ? html`<p class="muted">${pairs.length - pairLimit} more pair(s).</p>` : ''}`}
    </section>`;
  };

  const outliers = (h: Health) => {
    if (!h.boxOutliers.length) return '';
    const rows = [...h.boxOutliers].sort((a, b) => Math.max(Math.abs(b.areaZ), Math.abs(b.aspectZ)) - Math.max(Math.abs(a.areaZ), Math.abs(a.aspectZ)));
    return html`<section class="card box-outliers" aria-label="Box outliers">
      <h3>Box outliers <span class="muted">size or shape far from the label's other boxes (|modified z| over 3.5)</span>
        <a class="small flagged-all outliers-all" href=${gridHref(projectId, { flagged: 'outlier' })} title="The images with a box outlier, in the grid">all in the grid →</a></h3>
      <div class="table-scroll"><table class="work-table outlier-table">
        <thead><tr><th scope="col">Image</th><th scope="col">Label</th><th scope="col">Box (px)</th><th scope="col" title="Modified z of the log area">Area z</th><th scope="col" title="Modified z of the log aspect (w ÷ h)">Aspect z</th></tr></thead>
        <tbody>${rows.slice(0, outlierLimit).map(o => html`<tr data-annotation=${o.annotationId} data-image=${o.imageId}>
          <td><a href="/images/${o.imageId}" title="Open the image in the editor">${name(o.imageId)}</a></td><td>${o.label}</td>
          <td>${Math.round(o.width)}×${Math.round(o.height)}</td><td class=${Math.abs(o.areaZ) > 3.5 ? 'error' : ''}>${o.areaZ.toFixed(1)}</td>
          <td class=${Math.abs(o.aspectZ) > 3.5 ? 'error' : ''}>${o.aspectZ.toFixed(1)}</td></tr>`)}</tbody></table></div>
      ${rows.length > outlierLimit ? html`<p class="muted">${rows.length - outlierLimit} more.</p>` : ''}
    </section>`;
  };

  const draw = () => {
    if (disposed) return;
    const h = health;
    const figures = h && (h.status !== 'none' || h.computedAt);
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><a href="/projects/${projectId}/work">My work</a><a href="/projects/${projectId}/people">People</a><strong>Health</strong>${userMenu()}</header>
    <main class="page health-page quality-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${role && !atLeast(role, 'reviewer') ? html`<p class="muted card">Dataset health is for reviewers and owners (you are ${withArticle(role)}).</p>` : ''}
      ${controls()}
      ${figures && h?.computedAt ? html`${summary(h)}${chartCards(h)}${duplicates(h)}${outliers(h)}${heatmaps(h)}` : ''}
    </main>`, root);
  };

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; draw(); });
  projectRole(projectId).then(r => { role = r; draw(); }).catch(() => {});
  events.start().catch(() => toast('Live progress is unavailable; the page asks the server instead', true));
  load();
  return () => {
    disposed = true;
    window.clearTimeout(poll);
    window.clearTimeout(rerunTimer);
    events.stop();
    charts.classes?.destroy();
    charts.objects?.destroy();
    charts.sizes?.destroy();
  };
}

/** A label's heatmap: its Size×Size counts as a small grid, brighter for more (drawn once per result). */
function heatCanvas(m: Heatmap): HTMLCanvasElement {
  const cached = heatCache.get(m);
  if (cached) return cached;
  const cells = m.size, px = 7, canvas = document.createElement('canvas');
  canvas.width = canvas.height = cells * px;
  canvas.className = 'heatmap-canvas';
  canvas.setAttribute('role', 'img');
  const max = Math.max(1, ...m.counts);
  canvas.setAttribute('aria-label', `Where ${m.label} objects sit: ${m.counts.reduce((a, b) => a + b, 0)} centres, at most ${max} in one cell`);
  canvas.dataset.max = String(max);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#0c0f13';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  m.counts.forEach((n, i) => {
    if (!n) return;
    ctx.fillStyle = `rgba(255, 176, 32, ${(0.15 + (0.85 * n) / max).toFixed(3)})`;
    ctx.fillRect((i % cells) * px, Math.floor(i / cells) * px, px, px);
  });
  canvas.dataset.drawn = 'true';
  heatCache.set(m, canvas);
  return canvas;
}
const heatCache = new WeakMap<Heatmap, HTMLCanvasElement>();
