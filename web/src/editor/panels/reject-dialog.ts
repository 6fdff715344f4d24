import { html } from 'lit';
import type { EditorState } from '../state';
import * as work from '../work';
import { EditorPanel } from './panel';

/**
 * "Reject…": a modal dialog with the project's reject reasons (project.workflow.rejectReasons) and a comment for the
 * annotator; Reject and next sends RejectImage and takes the next image to review. Esc or Cancel closes it.
 */
export class RejectDialog extends EditorPanel {
  protected watch(s: EditorState) { return [s.rejectOpen, s.project, s.working, s.info]; }

  private get dialog(): HTMLDialogElement | null { return this.querySelector('dialog'); }

  protected override updated(): void {
    const dialog = this.dialog, open = this.ed.state.rejectOpen;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.querySelector('form')?.reset();
      dialog.showModal();
      dialog.querySelector<HTMLSelectElement>('select')?.focus();
    } else if (!open && dialog.open) dialog.close();
  }

  private submit(form: HTMLFormElement): void {
    const data = new FormData(form);
    work.rejectAndNext(this.ed, String(data.get('reason') ?? ''), String(data.get('comment') ?? ''));
  }

  protected override render() {
    const s = this.ed.state, reasons = s.project?.workflow.rejectReasons ?? [];
    return html`<dialog class="reject" aria-label="Reject image" @close=${() => { if (this.ed.state.rejectOpen) this.ed.store.set({ rejectOpen: false }); }}>
      <form @submit=${(e: SubmitEvent) => { e.preventDefault(); this.submit(e.target as HTMLFormElement); }}>
        <h3>Reject ${s.info?.fileName ?? 'this image'}</h3>
        <p class="muted">It goes back to ${s.work?.submittedBy ?? 'its annotator'} as rework, first in their queue, with this reason and comment.</p>
        <p><label>Reason <select name="reason" required aria-label="Reason">
          ${reasons.map(r => html`<option value=${r}>${r}</option>`)}</select></label></p>
        <p><label>Comment for the annotator<br /><textarea name="comment" rows="4" maxlength="5000" aria-label="Comment for the annotator"
          placeholder="What to fix (optional)"
          @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); (e.target as HTMLTextAreaElement).form!.requestSubmit(); } }}></textarea></label></p>
        <p class="actions"><button type="submit" class="primary" ?disabled=${s.working}>Reject and next</button>
          <button type="button" @click=${() => this.ed.store.set({ rejectOpen: false })}>Cancel</button></p>
      </form>
    </dialog>`;
  }
}
customElements.define('vl-reject-dialog', RejectDialog);
