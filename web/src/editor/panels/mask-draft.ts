import { html } from 'lit';
import type { EditorState } from '../state';
import { acceptMaskDraft, discardMaskDraft } from '../tools/click-mask';
import { EditorPanel } from './panel';

/**
 * On the stage, at the bottom: "segmenting…" while box to mask or click to mask waits for the server ("tracing…" while
 * scissors does), and click to
 * mask's pending preview with its Accept and Discard buttons (Enter and Esc do the same). Its data attributes are
 * test hooks: data-points (clicks so far), data-answered (whether the preview answers all of them).
 */
export class MaskDraftPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.segmenting, s.tracing, s.maskDraft]; }

  protected override render() {
    const ed = this.ed, { segmenting, tracing, maskDraft: d } = ed.state;
    if (!d && segmenting === 0 && tracing === 0) return html``;
    const busy = segmenting > 0 ? html`<span class="busy" role="status">Segmenting…</span>`
      : tracing > 0 ? html`<span class="busy" role="status">Tracing…</span>` : '';
    // Only a status: clicks pass through it to the image (scissors go on clicking while a segment is traced).
    if (!d) return html`<div class="banner mask-draft status-only">${busy}</div>`;
    const inside = d.points.filter(c => c.positive).length, outside = d.points.length - inside;
    // The stage's own pointer handler would take a press on these buttons for a click on the image.
    return html`<div class="banner mask-draft" data-points=${d.points.length} data-answered=${String(d.answered === d.asked && !!d.result)}
        @pointerdown=${(e: Event) => e.stopPropagation()}>
      ${busy || html`<span>Mask preview${d.result ? ` (${d.result.answer.method})` : ''}:</span>`}
      <span class="muted">${inside} inside${outside ? `, ${outside} outside` : ''} · Shift+click: not part of it</span>
      <button class="primary" ?disabled=${!d.result && !segmenting} @click=${() => acceptMaskDraft(ed)} title="Add the preview as a mask of the current label (Enter)">Accept <kbd>Enter</kbd></button>
      <button @click=${() => discardMaskDraft(ed)} title="Drop the preview (Esc)">Discard <kbd>Esc</kbd></button></div>`;
  }
}
customElements.define('vl-mask-draft', MaskDraftPanel);
