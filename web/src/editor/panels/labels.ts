import { html } from 'lit';
import { hideCardTip, showCardTip } from '../../guidelines/card';
import { toast } from '../../toast';
import * as act from '../actions';
import { toggled, type EditorState } from '../state';
import { EditorPanel } from './panel';
import { applyAdjustment, loadAdjustment, Neutral, type Adjustment } from '../image-adjust';

/** The project's labels (a digit or a click picks the next shape's label; the box shows or hides it) and the sliders. */
export class LabelsPanel extends EditorPanel {
  private adjust: Adjustment = loadAdjustment();

  override connectedCallback() {
    super.connectedCallback();
    applyAdjustment(this.ed.stage, this.adjust);
  }

  private setAdjust(change: Partial<Adjustment>) {
    this.adjust = { ...this.adjust, ...change };
    applyAdjustment(this.ed.stage, this.adjust);
    this.requestUpdate();
  }

  protected watch(s: EditorState) { return [s.project, s.currentLabel, s.hiddenLabels, s.brushRadius, s.fillOpacity, s.scoreThreshold, s.role, s.status]; }

  protected override render() {
    const ed = this.ed, s = ed.state, threshold = s.scoreThreshold.toFixed(2);
    const number = (e: Event) => Number((e.target as HTMLInputElement).value);
    return html`
      <h4>Labels <span class="muted" title="A label's key picks the next shape's label; Shift+key relabels the selection">next shape</span></h4>
      ${(s.project?.labels ?? []).map(l => html`
        <div class="label-row ${l.id === s.currentLabel ? 'current' : ''}" data-label=${l.id} @click=${() => act.pickLabel(ed, l.id)}
          @mouseenter=${(e: MouseEvent) => showCardTip(s.info?.projectId, l, e.currentTarget as HTMLElement, `Click${l.hotkey ? ` or press ${l.hotkey.toUpperCase()}` : ''}: the label of the next shape`)} @mouseleave=${(e: MouseEvent) => hideCardTip(e.currentTarget as HTMLElement)}>
          <span class="swatch" style="background:${l.color}"></span><kbd>${l.hotkey?.toUpperCase() ?? ''}</kbd> ${l.name}
          <input type="checkbox" title="show ${l.name}" aria-label="show ${l.name}" .checked=${!s.hiddenLabels.has(l.id)}
            @click=${(e: Event) => e.stopPropagation()}
            @change=${(e: Event) => {
              const shown = (e.target as HTMLInputElement).checked;
              ed.store.update(st => ({ hiddenLabels: toggled(st.hiddenLabels, [l.id], !shown) }));
              toast(`${l.name} ${shown ? 'shown' : 'hidden'}`);
            }} />
        </div>`)}
      <p><label>Brush ${s.brushRadius} px <input type="range" min="1" max="150" .value=${String(s.brushRadius)} aria-label="Brush size"
        @input=${(e: Event) => ed.store.set({ brushRadius: number(e) })} /></label></p>
      <p><label>Fill <input type="range" min="0" max="0.6" step="0.05" .value=${String(s.fillOpacity)} aria-label="Fill opacity"
        @input=${(e: Event) => ed.store.set({ fillOpacity: number(e) })} /></label></p>
      <p><label title="Accept all accepts only the proposals scoring at or above this">Accept ≥ ${threshold}
        <input type="range" min="0" max="1" step="0.05" .value=${String(s.scoreThreshold)} aria-label="Accept threshold"
        @input=${(e: Event) => ed.store.set({ scoreThreshold: number(e) })} /></label>
        ${ed.canEdit ? html`<button @click=${() => act.acceptAbove(ed)}
          title="Shift+A: accepts every proposal scoring at or above ${threshold}; the others stay proposed">Accept all ≥ ${threshold}</button>` : ''}</p>
      <details class="image-adjust"><summary title="How the picture is shown (the image itself is not changed)">Image: brightness, contrast, gamma</summary>
        ${(['brightness', 'contrast', 'gamma'] as const).map(k => html`<p><label>${k} ${this.adjust[k].toFixed(2)}
          <input type="range" min="0.2" max="3" step="0.05" .value=${String(this.adjust[k])} aria-label="Image ${k}"
            @input=${(e: Event) => this.setAdjust({ [k]: number(e) })} /></label></p>`)}
        <button @click=${() => { this.setAdjust({ ...Neutral }); toast('Image shown as stored'); }}>Reset</button>
      </details>`;
  }
}
customElements.define('vl-labels-panel', LabelsPanel);
