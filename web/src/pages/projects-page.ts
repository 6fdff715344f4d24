import { html, render } from 'lit';
import { api, Project } from '../api';
import { currentAccount, userMenu } from '../session';
import { toast } from '../toast';
import { navigate } from '../navigation';

/** Projects: the list (with each one's image count), and a form to create one with its labels. */
export function projectsPage(root: HTMLElement): void {
  let projects: Project[] = [];
  const totals = new Map<string, { total: number; byStatus: Record<string, number> }>();
  let error = '';

  const create = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const labels = String(data.get('labels') ?? '').split(',').map(s => s.trim()).filter(Boolean).map(name => ({ name }));
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
      ${currentAccount().canCreateProjects === false ? html`<p class="card muted">On this server admins create projects; ask one to create a project and add you to it.</p>`
        : html`<form class="card" @submit=${create}>
        <h3>New project</h3>
        <p><input name="name" placeholder="Name" required maxlength="200" aria-label="Project name" /></p>
        <p><input name="labels" placeholder="Labels, comma-separated (car, person, dog)" size="50" aria-label="Labels" /></p>
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
