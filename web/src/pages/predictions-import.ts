import { html } from 'lit';
import { api, type PredictionsReport } from '../api';
import { toast } from '../toast';

/**
 * The Models page's "Import predictions" form (owners; docs/models-in-the-loop.md, "Predictions import"): a model's
 * own output (a COCO results .json, or a zip of YOLO .txt files with scores) becomes proposals under the model's name.
 * The server answers with a report: what was created and each refused row with its field, shown under the form.
 */
export class PredictionsImportForm {
  private busy = false;
  private report: PredictionsReport | undefined;

  constructor(private projectId: string, private redraw: () => void, private imported: (model: string) => void) {}

  private async submit(form: HTMLFormElement) {
    const data = new FormData(form);
    const file = data.get('file') as File | null;
    const model = String(data.get('model') ?? '').trim();
    const format = String(data.get('format')) === 'yolo' ? 'yolo' : 'coco';
    if (!model) { toast('Name the model: its proposals are counted under that name', true); return; }
    if (!file || !file.size) { toast(format === 'yolo' ? 'Pick a .zip of YOLO .txt files first' : 'Pick a COCO results .json first', true); return; }
    this.busy = true;
    this.redraw();
    try {
      const report = await api.importPredictions(this.projectId, format, model, file);
      this.report = report;
      toast(`${report.created} proposal${report.created === 1 ? '' : 's'} of ${report.model} on ${report.images} image${report.images === 1 ? '' : 's'}` +
        (report.refusedCount ? `; ${report.refusedCount} row${report.refusedCount === 1 ? '' : 's'} refused` : ''), report.created === 0 && report.refusedCount > 0);
      if (report.created > 0) this.imported(report.model);
    } catch (err) {
      toast(`Predictions not imported: ${(err as Error).message}`, true);
    } finally {
      this.busy = false;
      this.redraw();
    }
  }

  render() {
    const r = this.report;
    return html`<form class="card predictions-import" aria-label="Import predictions" @submit=${(e: SubmitEvent) => { e.preventDefault(); this.submit(e.target as HTMLFormElement); }}>
      <h3>Import predictions <span class="muted">your own model's output, as proposals</span></h3>
      <label>Model name <input name="model" required maxlength="100" placeholder="e.g. yolo11m-finetuned" title="Its proposals are counted under this name on this page" /></label>
      <label>Format <select name="format">
        <option value="coco" title="A COCO results array: image_id or file_name, category_id, bbox or segmentation, score">COCO results (.json)</option>
        <option value="yolo" title="A zip of name.txt files: class cx cy w h score, or class x1 y1 … score">YOLO with scores (.zip)</option>
      </select></label>
      <label>File <input type="file" name="file" accept=".json,.zip" /></label>
      <button type="submit" class="primary" ?disabled=${this.busy}>${this.busy ? 'Importing…' : 'Import'}</button>
      ${r ? html`<div class="predictions-report" role="status">
        <p><strong>${r.created}</strong> created on <strong>${r.images}</strong> image${r.images === 1 ? '' : 's'} from ${r.rows} row${r.rows === 1 ? '' : 's'}${r.replaced ? html`, ${r.replaced} earlier untouched proposals replaced` : ''};
          <strong>${r.refusedCount}</strong> refused${r.refusedCount > r.refused.length ? html` (the first ${r.refused.length} listed)` : ''}.</p>
        ${r.refused.length ? html`<table class="predictions-refused"><thead><tr><th>row</th><th>field</th><th>problem</th></tr></thead><tbody>
          ${r.refused.map(x => html`<tr><td>${x.where ?? x.row}</td><td><code>${x.field}</code></td><td>${x.problem}</td></tr>`)}
        </tbody></table>` : ''}
      </div>` : ''}
      <p class="muted small">COCO category ids and YOLO class indices are the labels' numbers in this project's COCO and YOLO exports (or give categories / a data.yaml to match by name). Good rows land even when others are refused.</p>
    </form>`;
  }
}
