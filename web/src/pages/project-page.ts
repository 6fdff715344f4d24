import { html, render } from 'lit';
import { api, ImageInfo, Project } from '../api';
import { currentUser } from '../user';
import { toast } from '../toast';

const pageSize = 200;

/** One project: its images as a thumbnail grid (paged), a status filter, and upload by picker or drag and drop. */
export function projectPage(root: HTMLElement, projectId: string): void {
  let project: Project | undefined;
  let images: ImageInfo[] = [];
  let total = 0;
  let status = '';
  const uploads: { name: string; state: string; error?: string }[] = [];

  const load = async (reset: boolean) => {
    const page = await api.images(projectId, reset ? 0 : images.length, pageSize, status || undefined);
    images = reset ? page.items : images.concat(page.items);
    total = page.total;
    draw();
  };

  const upload = async (files: File[]) => {
    if (files.length === 0) return;
    // One request per file: each gets its own progress line and its own error.
    await Promise.all(files.map(async file => {
      const line = { name: file.name, state: 'uploading…' as string, error: undefined as string | undefined };
      uploads.unshift(line);
      draw();
      try {
        const result = await api.upload(projectId, [file]);
        const f = result.files[0];
        line.state = f.outcome;
        line.error = f.error ?? undefined;
      } catch (err) { line.state = 'refused'; line.error = (err as Error).message; }
      draw();
    }));
    toast(`Uploaded ${files.length} file(s)`);
    await load(true);
  };

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><strong>${project?.name ?? ''}</strong><span class="user">${currentUser()}</span></header>
    <main class="page"
      @dragover=${(e: DragEvent) => e.preventDefault()}
      @drop=${(e: DragEvent) => { e.preventDefault(); upload([...(e.dataTransfer?.files ?? [])]); }}>
      <div class="card">
        <label>Upload images <input type="file" multiple accept="image/jpeg,image/png,image/webp"
          @change=${(e: Event) => upload([...((e.target as HTMLInputElement).files ?? [])])} /></label>
        <span class="muted">or drop files anywhere on this page</span>
        ${uploads.slice(0, 20).map(u => html`<div class=${u.error ? 'error' : 'muted'}>${u.name}: ${u.state}${u.error ? ` — ${u.error}` : ''}</div>`)}
      </div>
      <p>
        <label>Status <select @change=${(e: Event) => { status = (e.target as HTMLSelectElement).value; load(true); }}>
          ${['', 'new', 'prelabeled', 'in-progress', 'submitted', 'approved', 'rejected'].map(s => html`<option value=${s} ?selected=${s === status}>${s || 'all'}</option>`)}
        </select></label>
        <span class="muted">${images.length} of ${total} images</span>
      </p>
      <div class="grid">
        ${images.map(i => html`<a href="/images/${i.id}"><img loading="lazy" src="/api/images/${i.id}/thumbnail" alt=${i.fileName} /><span>${i.fileName} · ${i.status}</span></a>`)}
      </div>
      ${images.length < total ? html`<p><button @click=${() => load(false)}>Show more</button></p>` : ''}
    </main>`, root);

  draw();
  api.project(projectId).then(p => { project = p; draw(); }).catch(err => toast((err as Error).message, true));
  load(true).catch(err => toast((err as Error).message, true));
}
