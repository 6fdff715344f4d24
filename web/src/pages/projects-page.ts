import { html, render } from 'lit';
import { api, labelKeys, labelPalette as palette, Project, type NewLabel } from '../api';
import { currentAccount, userMenu } from '../session';
import { toast } from '../toast';
import { navigate } from '../navigation';

/** Projects: the list (with each one's image count), and a form to create one with its labels. */
export function projectsPage(root: HTMLElement): void {
  let projects: Project[] = [];
  const totals = new Map<string, { total: number; byStatus: Record<string, number> }>();
  let error = '';
  /** The archived projects, once asked for (null: not shown). */
  let archived: Project[] | null = null;
  const showArchived = async (open: boolean) => {
    if (!open) { archived = null; draw(); return; }
    try { archived = await api.projects(true); draw(); } catch (err) { toast((err as Error).message, true); }
  };
  const unarchive = async (p: Project) => {
    try { await api.archiveProject(p.id, false); toast(`${p.name} unarchived`); archived = archived?.filter(x => x.id !== p.id) ?? null; projects = await api.projects(); draw(); }
    catch (err) { toast((err as Error).message, true); }
  };
  /** The new project's labels as typed (comma-separated), and the colours and keys changed for some of them by name. */
  let labelText = '';
  const chosen = new Map<string, { color?: string; hotkey?: string }>();
  const newLabels = (): NewLabel[] => {
    const names = [...new Set(labelText.split(',').map(s => s.trim()).filter(Boolean))];
    return names.map((name, i) => ({ name, color: chosen.get(name)?.color ?? palette[i % palette.length], hotkey: chosen.get(name)?.hotkey ?? labelKeys[i] ?? '' }));
  };
  const choose = (name: string, change: { color?: string; hotkey?: string }) => { chosen.set(name, { ...chosen.get(name), ...change }); draw(); };

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const labels = newLabels();
    const keys = labels.map(l => l.hotkey).filter(Boolean);
    if (new Set(keys).size !== keys.length) { toast('Two labels have the same key: give one another key (or none)', true); return; }
    try {
      const project = await api.createProject(String(data.get('name') ?? ''), labels);
      toast(`Created ${project.name}`);
      navigate(`/projects/${project.id}`);
    } catch (err) { toast((err as Error).message, true); }
  };

  const draw = () => render(html`
    <header class="top"><strong>VisionLabel</strong>${userMenu()}</header>
    <main class="page">
      <h2>Projects</h2>
      ${error ? html`<p class="error">${error}</p>` : ''}
      ${projects.map(p => html`
        <div class="card">
          <a href="/projects/${p.id}"><strong>${p.name}</strong></a>
          <span class="muted"> · ${totals.get(p.id)?.total ?? '…'} images</span>
          · <a href="/projects/${p.id}/work">My work</a>
          <span class="muted status-counts">${Object.entries(totals.get(p.id)?.byStatus ?? {}).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(' · ')}</span>
          <div>${p.labels.map(l => html`<span class="chip" style="border-color:${l.color}">${l.name}</span>`)}</div>
        </div>`)}
      <details class="archived-projects" @toggle=${(e: Event) => showArchived((e.target as HTMLDetailsElement).open)}>
        <summary title="Projects an owner archived: kept whole, out of this list">Archived projects</summary>
        ${archived === null ? html`<p class="muted">Loading…</p>` : archived.length === 0 ? html`<p class="muted">No archived projects.</p>`
          : archived.map(p => html`<div class="card archived-project"><a href="/projects/${p.id}">${p.name}</a>
              <span class="muted">archived ${new Date(p.archivedAt!).toLocaleString()}</span> <button @click=${() => unarchive(p)}>Unarchive</button></div>`)}
      </details>
      ${currentAccount().canCreateProjects === false ? html`<p class="card muted">On this server admins create projects; ask one to create a project and add you to it.</p>`
        : html`<form class="card" @submit=${create}>
        <h3>New project</h3>
        <p><input name="name" placeholder="Name" required maxlength="200" aria-label="Project name" /></p>
        <p><input name="labels" placeholder="Labels, comma-separated (car, person, dog)" size="50" aria-label="Labels"
          @input=${(e: Event) => { labelText = (e.target as HTMLInputElement).value; draw(); }} /></p>
        ${newLabels().length ? html`<details class="new-label-keys"><summary title="Each label's colour and the key that picks it in the editor (1…9, 0, then letters the editor does not use)">Colours and keys: ${newLabels().map(l => `${l.name} ${l.hotkey ? l.hotkey.toUpperCase() : '–'}`).join(' · ')}</summary>
          ${newLabels().map(l => html`<div class="label-edit" data-label=${l.name}><input type="color" .value=${l.color!} aria-label="colour of new label ${l.name}"
              @change=${(e: Event) => choose(l.name, { color: (e.target as HTMLInputElement).value })} /> ${l.name}
            <label>key <select aria-label="key of new label ${l.name}" @change=${(e: Event) => choose(l.name, { hotkey: (e.target as HTMLSelectElement).value })}>
              <option value="" ?selected=${!l.hotkey}>none</option>${labelKeys.map(k => html`<option value=${k} ?selected=${l.hotkey === k}>${k.toUpperCase()}</option>`)}</select></label></div>`)}
        </details>` : ''}
        <button class="primary" type="submit">Create project</button>
      </form>`}
    </main>`, root);

  draw();
  api.projects().then(async list => {
    projects = list;
    draw();
    for (const s of await api.stats()) totals.set(s.projectId, s);
    draw();
  }).catch(err => { error = (err as Error).message; draw(); });
}
