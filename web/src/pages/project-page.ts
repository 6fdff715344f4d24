import { html, render } from 'lit';
import { labelSettings } from './label-settings';
import { api, DatasetFormat, Job, Project } from '../api';
import { ProjectEvents } from '../live-events';
import { ImageGrid } from './image-grid';
import { PrelabelCard } from './prelabel-card';
import { gridFilters } from './grid-filters';
import { gridHref, hasFilter, readFilter, type ImageFilter } from '../image-filters';
import { atLeast, currentAccount, Member, projectRole, Role, userMenu, withArticle } from '../session';
import { toast } from '../toast';
import { navigate } from '../navigation';

/**
 * One project: its images as a thumbnail grid (paged) with its filters (grid-filters.ts; kept in the address, so the
 * People and Health pages drill down with a link: ?annotator=, ?label=, ?ids=…&idsNote=…), upload by picker or drag and drop, models
 * and pre-labeling with a live progress bar and the failed items, and dataset import (with progress) and export.
 */
export function projectPage(root: HTMLElement, projectId: string): () => void {
  let project: Project | undefined;
  let total: number | undefined;
  let grid: ImageGrid | undefined;
  const gridHost = document.createElement('div');
  let filter: ImageFilter = readFilter(location.search);
  const uploads: { name: string; state: string; error?: string }[] = [];
  let uploadsOpen = true;
  // The server's format registry (GET /api/dataset-formats): what can be imported and exported, never a list kept here.
  let formats: DatasetFormat[] = [];
  api.datasetFormats().then(f => { formats = f; draw(); }).catch(err => toast(`Dataset formats unavailable: ${(err as Error).message}`, true));
  let importing = '';
  let importJob = '';
  let role: Role | undefined;
  let members: Member[] = [];
  let membersOpen: boolean | undefined;
  let error = '';
  // `draw` and `load` are consts defined below; the card calls them only after this function has run.
  const prelabel = new PrelabelCard(projectId, () => draw(), () => load());
  const events = new ProjectEvents(projectId);
  events.onJob = async j => {
    if (j.id === importJob) { await importChanged(j); return; }
    await prelabel.changed(j);
  };
  events.onImport = (done, total) => { importing = `importing: ${done} of ${total} images`; draw(); };
  events.start().catch(() => toast('Live progress is unavailable; reload to see results', true));

  /** Asks for the project's name (deleting is not undone), then back to the project list. */
  const deleteProject = async () => {
    const name = project?.name ?? '';
    if (prompt(`Delete the project ${name} with all its images, annotations and jobs? This cannot be undone. Type its name to confirm:`) !== name) {
      toast('Not deleted: the name typed did not match');
      return;
    }
    try {
      await api.deleteProject(projectId);
      toast(`Project ${name} deleted`);
      navigate('/');
    } catch (err) { toast(`Cannot delete: ${(err as Error).message}`, true); }
  };

  const reloadProject = async () => { project = await api.project(projectId); draw(); };
  const archiveProject = async (archive: boolean) => {
    const name = project?.name ?? '';
    if (archive && !confirm(`Archive ${name}? Its images, annotations and history are kept; it leaves the project list and its queue closes until an owner unarchives it (the list's "Archived projects").`)) return;
    try {
      project = await api.archiveProject(projectId, archive);
      toast(archive ? `${name} archived` : `${name} unarchived: back in the list, its queue open`);
      if (archive) navigate('/'); else draw();
    } catch (err) { toast((err as Error).message, true); }
  };
  const labelAction = async (action: () => Promise<unknown>, done: string) => {
    try { await action(); toast(done); await reloadProject(); return true; } catch (err) { toast((err as Error).message, true); return false; }
  };
  const deleteLabel = async (labelId: string, name: string) => {
    try { await api.deleteLabel(projectId, labelId, false); toast(`Label ${name} deleted`); }
    catch (err) {
      if (!confirm(`${(err as Error).message}\n\nDelete the label and those annotations?`)) return;
      await labelAction(() => api.deleteLabel(projectId, labelId, true), `Label ${name} and its annotations deleted`);
      return;
    }
    await reloadProject();
  };

  /** The import job's progress and, once it has finished, its report (or why it failed). */
  const importChanged = async (j: Job) => {
    if (j.status === 'completed' && j.importReport) {
      const r = j.importReport;
      importing = `imported ${r.imagesCreated} images, ${r.annotationsCreated} annotations; ${r.skipped.length} skipped`;
      toast(importing);
      importJob = '';
      await load();
    } else if (j.status === 'dead' || j.status === 'cancelled') {
      importing = '';
      importJob = '';
      toast(`Import ${j.status}: ${j.lastError ?? 'no reason given'}`, true);
    } else importing = `importing: ${j.done} of ${j.total} images`;
    draw();
  };

  const importZip = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const file = data.get('zip') as File | null;
    if (!file || !file.size) { toast('Pick a dataset .zip first', true); return; }
    importing = 'uploading…';
    draw();
    try {
      const started = await api.importDataset(projectId, String(data.get('format')), file);
      importJob = started.id;
      importing = `importing: 0 of ${started.total} images`;
      // It may have finished before the live hub said anything: ask once.
      await importChanged(await api.job(started.id));
    } catch (err) { importing = ''; toast(`Import refused: ${(err as Error).message}`, true); }
    draw();
  };

  const load = async () => {
    grid ??= new ImageGrid(gridHost, projectId, filter, t => { total = t; draw(); });
    await grid.reload(filter);
  };

  /** A filter changed: the address keeps it (a reload or a shared link shows the same grid), then the grid reloads. */
  const setFilter = (patch: Partial<ImageFilter>) => {
    const next: ImageFilter = { ...filter };
    for (const [key, value] of Object.entries(patch) as [keyof ImageFilter, string][]) {
      if (value) next[key] = value; else delete next[key];
    }
    if (!next.ids) delete next.idsNote;
    if (JSON.stringify(next) === JSON.stringify(filter)) return;
    filter = next;
    history.replaceState(history.state, '', gridHref(projectId, filter));
    total = undefined;
    draw();
    load().catch(err => toast(`Filter refused: ${(err as Error).message}`, true));
  };

  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    // One request per file: each gets its own progress line and its own error.
    await Promise.all(files.map(async file => {
      const line = { name: file.name, state: 'uploading…' as string, error: undefined as string | undefined };
      uploads.unshift(line);
      draw();
      try {
        const result = await api.uploadWithProgress(projectId, file, (sent, size) => { line.state = `uploading ${Math.round((100 * sent) / size)}%`; draw(); });
        const f = result.files[0];
        line.state = f.outcome;
        line.error = f.error ?? undefined;
      } catch (err) { line.state = 'refused'; line.error = (err as Error).message; }
      draw();
    }));
    toast(`Uploaded ${files.length} file(s)`);
    uploadsOpen = uploads.some(u => u.error); // folded once all is well; refusals stay in sight
    draw();
    await load();
  };

  const loadMembers = async () => {
    members = await api.members(projectId);
    role = await projectRole(projectId, members);
    membersOpen ??= owner() && members.length === 1; // open at first for an owner on their own; then as the user leaves it
    draw();
  };
  const memberAction = async (action: () => Promise<unknown>, done: string) => {
    try { await action(); toast(done); await loadMembers(); } catch (err) { toast((err as Error).message, true); }
  };
  const addMember = (form: HTMLFormElement) => {
    const data = new FormData(form);
    const user = String(data.get('user') ?? '').trim();
    memberAction(() => api.addMember(projectId, user, String(data.get('role'))), `${user} added`).then(() => form.reset());
  };
  const owner = () => atLeast(role, 'owner');
  const membersCard = () => html`
      <details class="card members" ?open=${membersOpen} @toggle=${(e: Event) => { membersOpen = (e.target as HTMLDetailsElement).open; }}><summary>Members (${members.length}) · you are ${withArticle(role)}</summary>
        ${members.map(m => html`<div class="member">${m.userName}${m.email ? html` <span class="muted">${m.email}</span>` : ''}
          ${owner() ? html`<select aria-label="role of ${m.userName}" @change=${(e: Event) => memberAction(() => api.changeMember(projectId, m.userId, (e.target as HTMLSelectElement).value), `${m.userName} is now ${(e.target as HTMLSelectElement).value}`)}>
              ${(['viewer', 'annotator', 'reviewer', 'owner'] as const).map(r => html`<option value=${r} ?selected=${r === m.role}>${r}</option>`)}</select>
            <button @click=${() => confirm(`Remove ${m.userName} from this project?`) && memberAction(() => api.removeMember(projectId, m.userId), `${m.userName} removed`)}
              ?disabled=${m.userId === currentAccount().id && members.filter(x => x.role === 'owner').length <= 1}>Remove</button>`
            : html`<span class="chip">${m.role}</span>`}</div>`)}
        ${owner() ? html`<form @submit=${(e: SubmitEvent) => { e.preventDefault(); addMember(e.target as HTMLFormElement); }} aria-label="Add a member">
          <input name="user" placeholder="User name or e-mail" aria-label="User name or e-mail" required maxlength="256" />
          <select name="role" aria-label="Role"><option value="viewer">viewer</option><option value="annotator" selected>annotator</option><option value="reviewer">reviewer</option><option value="owner">owner</option></select>
          <button type="submit">Add member</button></form>` : ''}
      </details>`;

  /** Upload results, failures first, in a bounded box the user can fold: many uploads never push the grid away. */
  const uploadsPanel = () => {
    if (uploads.length === 0) return '';
    const failedCount = uploads.filter(u => u.error).length;
    const running = uploads.filter(u => u.state.startsWith('uploading')).length;
    const shown = [...uploads].sort((a, b) => Number(!!b.error) - Number(!!a.error)).slice(0, 500);
    return html`<details class="uploads" ?open=${uploadsOpen} @toggle=${(e: Event) => { uploadsOpen = (e.target as HTMLDetailsElement).open; }}>
      <summary>Uploads: ${uploads.length - failedCount - running} done${running ? `, ${running} uploading` : ''}${failedCount ? html`, <span class="error">${failedCount} refused</span>` : ''}</summary>
      ${shown.map(u => html`<div class=${u.error ? 'error' : 'muted'}>${u.name}: ${u.state}${u.error ? ` — ${u.error}` : ''}</div>`)}
      ${uploads.length > shown.length ? html`<div class="muted">${uploads.length - shown.length} more</div>` : ''}
    </details>`;
  };

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><strong>${project?.name ?? ''}</strong><a class="nav-work" href="/projects/${projectId}/work">My work</a><a href="/projects/${projectId}/guidelines" title="The labeling guidelines: what each label means, with examples">Guidelines</a>${atLeast(role, 'reviewer') ? html`<a class="nav-quality" href="/projects/${projectId}/quality">Quality</a>` : ''}${atLeast(role, 'annotator') ? html`<a class="nav-people" href="/projects/${projectId}/people" title="Each person's figures: output, active time, acceptance, F1">People</a>` : ''}${atLeast(role, 'reviewer') ? html`<a class="nav-health" href="/projects/${projectId}/health" title="Dataset health: class balance, outliers, near-duplicates and leaks">Health</a>` : ''}<a class="nav-models" href="/projects/${projectId}/models" title="How each model's proposals ended">Models</a>${owner() ? html`<a class="nav-webhooks" href="/projects/${projectId}/webhooks" title="Tell other systems when images are approved, jobs end, exports are ready…">Webhooks</a>` : ''}${userMenu()}</header>
    <main class="page"
      @dragover=${(e: DragEvent) => e.preventDefault()}
      @drop=${(e: DragEvent) => { e.preventDefault(); upload([...(e.dataTransfer?.files ?? [])]); }}>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${project?.archivedAt ? html`<p class="card archived-note" role="status">This project is archived: out of the project list, its queue closed.
        ${owner() ? html`<button @click=${() => archiveProject(false)}>Unarchive</button>` : 'An owner can unarchive it.'}</p>` : ''}
      <div class="card work-link"><a class="button primary" href="/projects/${projectId}/work">My work →</a>
        <span class="muted">Start labeling or reviewing from the queue; your rework and assignments${atLeast(role, 'reviewer') ? '; the team\'s leases and progress' : ''}${owner() ? '; distributing work and the workflow settings' : ''}.</span>
        ${atLeast(role, 'viewer') ? html`<span class="quality-link figure-links">
          ${atLeast(role, 'reviewer') ? html`<a class="button" href="/projects/${projectId}/quality"
            title="Each annotator's and label's precision, recall and F1 against ground truth${owner() ? '; ground truth and label requirements' : ''}">Quality →</a>` : ''}
          ${atLeast(role, 'annotator') ? html`<a class="button" href="/projects/${projectId}/people" title="${owner() ? 'Everyone\'s' : 'Your'} output, active time, first-pass acceptance and GT F1, with flags worth a look">People →</a>` : ''}
          ${atLeast(role, 'reviewer') ? html`<a class="button" href="/projects/${projectId}/health" title="Class balance per split, box outliers, near-duplicates and split leaks">Health →</a>` : ''}
          <a class="button" href="/projects/${projectId}/models" title="How each model's proposals ended, per label and score band; recommended thresholds and time saved">Models →</a>
          <span class="muted">${atLeast(role, 'reviewer') ? 'quality, people, dataset health, models'
            : atLeast(role, 'annotator') ? 'your figures, models' : 'how the models\' proposals ended'}.</span></span>` : ''}</div>
      ${membersCard()}
      ${owner() ? html`<div class="card">
        <label>Upload images <input type="file" multiple accept="image/jpeg,image/png,image/webp"
          @change=${(e: Event) => upload([...((e.target as HTMLInputElement).files ?? [])])} /></label>
        <span class="muted">or drop files anywhere on this page</span>
        ${uploadsPanel()}
      </div>
      <details class="card"><summary>Labels (${project?.labels.length ?? 0}) and settings</summary>
        ${labelSettings({ projectId, labels: () => project?.labels ?? [], act: labelAction, deleteLabel: (id, name) => { deleteLabel(id, name); }, redraw: () => draw() })}
        <p class="danger-zone">${project?.archivedAt ? '' : html`<button @click=${() => archiveProject(true)} title="Owners: keep everything but take the project out of the project list and close its queue (undone by Unarchive)">Archive project…</button>`}
          <button class="danger" @click=${deleteProject} title="Owners: the project, its images, annotations, comments and jobs">Delete project…</button></p>
      </details>
      ${prelabel.render()}
      <form class="card" @submit=${(e: SubmitEvent) => { e.preventDefault(); importZip(e.target as HTMLFormElement); }}>
        <label>Import a dataset <select name="format">${formats.filter(f => f.canImport).map(f => html`<option value=${f.id} title=${f.description}>${f.title}</option>`)}</select>
        <input type="file" name="zip" accept=".zip" /></label> <button type="submit">Import</button> <span class="muted">${importing}</span>
      </form>` : html`<p class="muted card">Owners upload images, run models and import datasets.</p>`}
      <form class="card export" @submit=${(e: SubmitEvent) => e.preventDefault()}>
        <label>Export <select name="format">${formats.filter(f => f.canExport).map(f => html`<option value=${f.id} title=${f.description}>${f.title}</option>`)}</select></label>
        <label>of <select name="scope" title="Approved: what review let through (the default). Everything: every image, the unreviewed listed in the zip's manifest; one nobody approved with nothing to export is left out, never written as an empty background.">
          <option value="approved">approved images</option><option value="all">every image</option><option value="proposals">every image, with model proposals</option></select></label>
        <label>val split <select name="val" title="YOLO: the share of images in the val split; without one, data.yaml says val is the training images"><option value="0">none</option><option value="0.1">10%</option><option value="0.2">20%</option></select></label>
        <label>slices <select name="slice" title="YOLO: cut images larger than this into overlapping squares (20% overlap) with their labels, to train on tiles of large images"><option value="0">whole images</option><option value="640">640 px</option><option value="1024">1024 px</option></select></label>
        <a class="button" href="#" download @click=${(e: MouseEvent) => exportHref(e.currentTarget as HTMLAnchorElement, projectId)}>Download</a>
      </form>
      ${gridFilters(filter, project?.labels ?? [], members.map(m => m.userName), total, setFilter)}
      ${total === 0 ? html`<p class="muted empty-grid">${Object.keys(filter).length ? 'No image matches these filters.' : 'No images yet.'}</p>` : ''}
      ${gridHost}
    </main>`, root);

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => { error = (err as Error).message; toast(error, true); draw(); });
  loadMembers().catch(() => {});
  // Opened with filters (a drill-down from People or Health, a shared link): the grid is what was asked for, so show it.
  const drilled = hasFilter(filter);
  load().then(() => { if (drilled) root.querySelector('.grid-filters')?.scrollIntoView({ block: 'start' }); })
    .catch(err => toast(`Filter refused: ${(err as Error).message}`, true));
  prelabel.load().catch(err => toast(`Models unavailable: ${(err as Error).message}`, true));
  return () => { events.stop(); grid?.dispose(); };
}

/** The export link from the form's choices (the server names the zip after them, so downloads do not overwrite each other). */
function exportHref(link: HTMLAnchorElement, projectId: string): void {
  const form = link.closest('form')!;
  const value = (name: string) => (form.elements.namedItem(name) as HTMLSelectElement).value;
  const query = new URLSearchParams({ format: value('format') });
  const scope = value('scope');
  if (scope !== 'approved') query.set('scope', 'all');
  if (scope === 'proposals') query.set('states', 'accepted,proposed');
  if (value('val') !== '0') query.set('val', value('val'));
  if (value('slice') !== '0' && value('format').startsWith('yolo')) query.set('slice', value('slice'));
  link.href = `/api/projects/${projectId}/export?${query}`;
}
