import { html } from 'lit';
import { gestures, shortcuts } from '../shortcuts';
import type { EditorState } from '../state';
import { tools } from '../tools/registry';
import { EditorPanel } from './panel';

/** The ? overlay: every tool's and every shortcut's line, from the registry and shortcuts.ts (never written twice). */
export class HelpOverlay extends EditorPanel {
  protected watch(s: EditorState) { return [s.helpOpen, s.role]; }

  protected override render() {
    const ed = this.ed;
    if (!ed.state.helpOpen) return html``;
    const rows: (readonly [string, string])[] = [
      ...tools.flatMap(t => [[t.key.toUpperCase(), `${t.help}${t.edits && !ed.mayEdit ? ' (annotators)' : ''}`] as const, ...(t.more ?? [])]),
      ...shortcuts.map(s => [s.keys, s.help] as const),
      ...gestures,
    ];
    return html`<div class="help" role="dialog" aria-label="Shortcuts"><h3>Shortcuts</h3>
      <table>${rows.map(([k, what]) => html`<tr><td><kbd>${k}</kbd></td><td>${what}</td></tr>`)}</table>
      <p><button @click=${() => ed.store.set({ helpOpen: false })}>Close</button></p></div>`;
  }
}
customElements.define('vl-help-overlay', HelpOverlay);
