import { html } from 'lit';
import type { SubmissionFeedback } from '../../api';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/** "Honeypot: F1 0.40 — below the bar 0.80", or "… — passed (the bar 0.80)". */
export function feedbackTitle(f: SubmissionFeedback): string {
  return `Honeypot: F1 ${f.f1.toFixed(2)} — ${f.passed ? `passed (the bar ${f.threshold.toFixed(2)})` : `below the bar ${f.threshold.toFixed(2)}`}`;
}

/**
 * The score of a honeypot just submitted (docs/quality.md, "Feedback on submit"): a modal dialog with the F1 against
 * the bar and the server's hints (labels and counts only: the truth itself is never shown). Submit and next waits for
 * it: Continue, Enter or Esc close it, and the next image opens. Focus goes to Continue when it opens and back to
 * the image when it closes.
 */
export class FeedbackDialog extends EditorPanel {
  protected watch(s: EditorState) { return [s.feedback]; }

  private get dialog(): HTMLDialogElement | null { return this.querySelector('dialog'); }

  protected override updated(): void {
    const dialog = this.dialog, open = !!this.ed.state.feedback;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      dialog.querySelector<HTMLButtonElement>('button.continue')?.focus();
    } else if (!open && dialog.open) dialog.close();
  }

  /** Closed (Continue, Enter, Esc): the state says so, and submit and next goes on. */
  private closed(): void {
    if (!this.ed.state.feedback) return;
    this.ed.store.set({ feedback: null });
    this.ed.stage.focus();
  }

  protected override render() {
    const f = this.ed.state.feedback;
    return html`<dialog class="feedback ${f ? (f.passed ? 'passed' : 'below') : ''}" aria-labelledby="feedback-title" aria-describedby="feedback-about"
        @close=${() => this.closed()}
        @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter') { e.preventDefault(); this.dialog?.close(); } }}>
      ${f ? html`<form method="dialog">
        <h3 id="feedback-title">${feedbackTitle(f)}</h3>
        <p class="muted" id="feedback-about">This image was a honeypot: one with known answers, and your submission was scored against them
          (F1 at IoU 0.5; it passes at ${f.threshold.toFixed(2)}). The hints say what differed, by label and count.</p>
        <ul class="hints" aria-label="Hints">${f.hints.map(h => html`<li>${h}</li>`)}</ul>
        <p class="actions"><button type="submit" class="primary continue">Continue to the next image</button></p>
      </form>` : ''}
    </dialog>`;
  }
}
customElements.define('vl-feedback-dialog', FeedbackDialog);
