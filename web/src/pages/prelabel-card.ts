import { html, type TemplateResult } from 'lit';
import { api, type Job, type JobItem, type PrelabelOptions } from '../api';
import { toast } from '../toast';

type Model = Awaited<ReturnType<typeof api.models>>[number];

/**
 * The project page's pre-labeling form (owners): which model, its confidence and IoU, which images (new only, not yet
 * reviewed, or every image), whether earlier proposals are replaced, tiling of large images; then progress with a
 * cancel button, the failures, and the project's earlier pre-labeling jobs. The class mapping is the Models page's.
 */
export class PrelabelCard {
  models: Model[] = [];
  modelId = '';
  job: Job | undefined;
  failed: JobItem[] = [];
  history: Job[] = [];

  constructor(private readonly projectId: string, private readonly draw: () => void, private readonly reloadImages: () => Promise<void>) {}

  async load(): Promise<void> {
    const [models, jobs] = await Promise.all([api.models(), api.projectJobs(this.projectId)]);
    this.models = models;
    this.history = jobs.filter(j => j.kind === 'prelabel');
    this.draw();
  }

  /** A job event from the project's live feed. */
  async changed(j: Job): Promise<boolean> {
    if (j.id !== this.job?.id) return false;
    this.job = j;
    if (j.status === 'completed' || j.status === 'dead' || j.status === 'cancelled') {
      this.failed = j.failed > 0 ? await api.failedItems(j.id) : [];
      toast(`Pre-labeling ${j.status}: ${j.done} done, ${j.failed} failed`, j.status !== 'completed');
      await this.reloadImages();
      this.history = (await api.projectJobs(this.projectId)).filter(h => h.kind === 'prelabel');
    }
    this.draw();
    return true;
  }

  private async upload(input: HTMLInputElement): Promise<void> {
    const file = input.files?.[0];
    if (!file) return;
    try {
      const model = await api.uploadModel(file);
      toast(`Model ${model.name}: ${model.task}, ${model.classNames.length} classes`);
      this.models = await api.models();
      this.modelId = model.id;
      this.draw();
    } catch (err) { toast(`Model refused: ${(err as Error).message}`, true); }
  }

  private async start(form: HTMLFormElement): Promise<void> {
    if (!this.modelId) { toast('Upload or pick a model first', true); return; }
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    const options: PrelabelOptions = { existingProposals: value('existing'), tiling: value('tiling') };
    if (value('confidence')) options.confidence = Number(value('confidence'));
    if (value('iou')) options.iou = Number(value('iou'));
    const which = value('which');
    if (which === 'new') options.status = ['new'];
    if (which === 'all') options.includeReviewed = true;
    try {
      this.job = await api.prelabel(this.projectId, this.modelId, options);
      this.failed = [];
      toast(`Pre-labeling ${this.job.total} image${this.job.total === 1 ? '' : 's'}`);
      this.history = [this.job, ...this.history.filter(h => h.id !== this.job!.id)];
      this.draw();
      this.job = await api.job(this.job.id); // it may have moved before the first event
      this.draw();
    } catch (err) { toast(`Cannot pre-label: ${(err as Error).message}`, true); }
  }

  private async cancel(): Promise<void> {
    if (!this.job) return;
    try {
      await api.cancelJob(this.job.id);
      toast('Cancelling: images already done keep their proposals');
      this.job = await api.job(this.job.id);
      if (this.job.status === 'cancelled') await this.changed(this.job);
      this.draw();
    } catch (err) { toast(`Cannot cancel: ${(err as Error).message}`, true); }
  }

  render(): TemplateResult {
    const job = this.job, running = job && (job.status === 'queued' || job.status === 'running');
    return html`<form class="card prelabel" aria-label="Pre-labeling" @submit=${(e: SubmitEvent) => { e.preventDefault(); this.start(e.target as HTMLFormElement); }}>
      <label>Model <select name="model" aria-label="Model" @change=${(e: Event) => { this.modelId = (e.target as HTMLSelectElement).value; }}>
        <option value="">pick a model</option>
        ${this.models.map(m => html`<option value=${m.id} ?selected=${m.id === this.modelId}>${m.name} (${m.task})</option>`)}
      </select></label>
      <label>or upload (.onnx) <input type="file" accept=".onnx" aria-label="Upload an .onnx file" @change=${(e: Event) => this.upload(e.target as HTMLInputElement)} /></label>
      <button class="primary" type="submit" ?disabled=${running}>Pre-label</button>
      <details class="prelabel-options"><summary>options</summary>
      <a href="/projects/${this.projectId}/models" title="Which model class becomes which label">class mapping →</a>
      <label title="Proposals below this score are not made (the model's default when empty: 0.25)">confidence
        <input name="confidence" type="number" min="0.01" max="0.99" step="0.01" placeholder="0.25" aria-label="Confidence" /></label>
      <label title="Boxes overlapping more than this are merged (the model family's default when empty)">IoU
        <input name="iou" type="number" min="0.05" max="1" step="0.05" placeholder="default" aria-label="IoU" /></label>
      <label>images <select name="which" aria-label="Which images">
        <option value="unreviewed">not yet reviewed</option><option value="new">new only</option><option value="all">every image, reviewed ones too</option></select></label>
      <label title="Earlier model proposals on those images">earlier proposals <select name="existing" aria-label="Earlier proposals">
        <option value="replace">replace</option><option value="keep">keep</option></select></label>
      <label title="Large images (over 40 MP) are cut into model-sized slices">tiling <select name="tiling" aria-label="Tiling">
        <option value="auto">auto</option><option value="always">always</option><option value="never">never</option></select></label>
      </details>
      ${job ? html`<div><progress max=${Math.max(1, job.total)} value=${job.done + job.failed} aria-label="pre-labeling progress"></progress>
        <span class="job-status">${job.status}: ${job.done + job.failed} of ${job.total}${job.failed ? `, ${job.failed} failed` : ''}</span>
        ${running ? html`<button type="button" @click=${() => this.cancel()}>Cancel</button>` : ''}</div>` : ''}
      ${this.failed.map(f => html`<div class="error"><a href="/images/${f.imageId}">image ${f.imageId}</a>: ${f.error}</div>`)}
      ${this.history.length ? html`<details class="job-history"><summary>Earlier pre-labeling (${this.history.length})</summary><table>
        <thead><tr><th>started</th><th>status</th><th>done</th><th>failed</th><th>of</th></tr></thead>
        <tbody>${this.history.slice(0, 20).map(h => html`<tr data-job=${h.id}><td>${new Date(h.createdAt).toLocaleString()}</td><td>${h.status}</td><td>${h.done}</td><td>${h.failed}</td><td>${h.total}</td></tr>`)}</tbody>
      </table></details>` : ''}
    </form>`;
  }
}
