import { html } from 'lit';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/** Who else is on this image, in the colour of their cursor. */
export class ParticipantsPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.presence]; }

  protected override render() {
    const ed = this.ed;
    return html`<h4>On this image</h4>
      ${[...ed.live.participants.values()].map(p => html`<div class="participant"><span class="swatch" style="background:${p.color}"></span> ${p.name}${p.name === ed.user ? ' (you)' : ''}</div>`)}`;
  }
}
customElements.define('vl-participants-panel', ParticipantsPanel);
