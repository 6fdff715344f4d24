import { html, nothing } from 'lit';
import { cardOf, hideCardTip, labelCard } from '../../guidelines/card';
import { drafts, guidelinesOf, type Guidelines } from '../../guidelines/guidelines-api';
import { markdown } from '../../guidelines/markdown';
import { toast } from '../../toast';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/**
 * The project's guidelines beside the image: the card of the selected shape's label (else of the label the next shape
 * gets) with its examples, and the current version's text. Owners turn the selected shape into an example of its
 * label for the next version ("Use as positive / negative example": kept in a draft in this browser, published from
 * the Guidelines page).
 */
export class GuidelinesPanel extends EditorPanel {
  private guidelines: Guidelines | undefined;
  private failed = '';
  private loadedFor = '';

  protected watch(s: EditorState) { return [s.info, s.selected, s.currentLabel, s.labels, s.role, s.shapes.version]; }

  override connectedCallback(): void {
    super.connectedCallback();
    this.classList.add('guidelines-panel');
  }

  protected override willUpdate(): void {
    const projectId = this.ed.state.info?.projectId;
    if (projectId && this.loadedFor !== projectId) this.load(projectId);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    hideCardTip();
  }

  private async load(projectId: string, fresh = false): Promise<void> {
    this.loadedFor = projectId;
    try {
      this.guidelines = await guidelinesOf(projectId, fresh);
      this.failed = '';
      if (fresh) toast(this.guidelines.current ? `Guidelines ${this.guidelines.current.version} read again` : 'No guidelines published yet');
    } catch (err) { this.failed = (err as Error).message; }
    this.requestUpdate();
  }

  private pick(positive: boolean): void {
    const ed = this.ed, shape = ed.single(), projectId = ed.state.info?.projectId;
    if (!shape || !projectId) { toast('Select one shape first', true); return; }
    const [x0, y0, x1, y1] = shape.bounds;
    const count = drafts.pick(projectId, { labelId: shape.labelId, annotationId: shape.id, imageId: ed.imageId, bounds: [x0, y0, x1 - x0, y1 - y0], positive });
    toast(`Added to your guidelines draft as a ${positive ? 'positive' : 'negative'} example of ${ed.labelName(shape.labelId)} (${count} picked): publish it from the Guidelines page`);
  }

  protected override render() {
    const ed = this.ed, s = ed.state, projectId = s.info?.projectId;
    const g = this.guidelines, current = g?.current;
    const link = projectId ? `/projects/${projectId}/guidelines` : '/';
    const head = html`<h4>Guidelines ${current ? html`<span class="chip">${current.version}</span>` : nothing}
      <a href=${link} title="Read them whole: every version, the changelog, the label cards">Open</a>
      ${projectId ? html`<button type="button" class="link" title="Read the guidelines again (a new version may be out)" @click=${() => this.load(projectId, true)}>Reload</button>` : nothing}</h4>`;
    if (this.failed) return html`${head}<p class="error">Not read: ${this.failed}</p>`;
    if (!g) return html`${head}<p class="muted">…</p>`;
    if (!current) return html`${head}<p class="muted">None published yet${ed.canOwn ? html`: <a href=${link}>write the first version</a>` : ''}.</p>`;
    const shape = ed.single();
    const labelId = shape?.labelId ?? s.currentLabel;
    const label = s.labels.get(labelId);
    return html`${head}
      ${g.mustAcknowledge ? html`<p class="notice" role="note">Version ${current.version} is a major change: <a href="${link}">read and acknowledge it</a> before your next image.</p>` : nothing}
      <div class="muted">${shape ? 'The selected shape\'s label' : 'The next shape\'s label'}:</div>
      ${label ? labelCard(label, cardOf(current.cards, labelId), { size: 56, max: 4 }) : html`<p class="muted">No label picked.</p>`}
      ${ed.canOwn && shape ? html`<div class="pick-example" title="Owners: keep this shape as an example of its label for the next guidelines version">
          <button type="button" @click=${() => this.pick(true)}>Use as positive example</button>
          <button type="button" @click=${() => this.pick(false)}>Use as negative example</button></div>` : nothing}
      <details open><summary>Text</summary>
        <div class="guidelines-text-box markdown" aria-label="Guidelines text">${markdown(current.markdown)}</div></details>`;
  }
}
customElements.define('vl-guidelines-panel', GuidelinesPanel);
