import { html } from 'lit';
import * as act from '../actions';
import { tools } from '../tools/registry';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/**
 * The editor's top bar: the tools (from the registry), view and history buttons, the review actions and image
 * navigation. It wraps onto a second row rather than scrolling, so every action stays reachable at 1280 px.
 */
export class Toolbar extends EditorPanel {
  protected watch(s: EditorState) { return [s.tool, s.role, s.connected, s.status, s.info, s.project]; }

  protected override render() {
    const ed = this.ed, s = ed.state, canEdit = ed.canEdit, canReview = ed.canReview;
    const filter = new URLSearchParams(location.search).get('status');
    return html`
      <a href=${s.info ? `/projects/${s.info.projectId}` : '/'}>← ${s.project?.name ?? 'Project'}</a>
      <strong class="file">${s.info?.fileName ?? ''}</strong>
      <span class="group">${tools.filter(t => canEdit || !t.edits).map(t => html`
        <button class="tool ${s.tool === t.id ? 'active' : ''}" title="${t.name} (${t.key.toUpperCase()})" @click=${() => ed.setTool(t.id)}>${t.name} <kbd>${t.key.toUpperCase()}</kbd></button>`)}</span>
      <span class="group">
        <button title="Fit (F)" @click=${() => ed.fit()}>Fit <kbd>F</kbd></button>
        ${canEdit ? html`<button title="Undo (Ctrl+Z)" @click=${() => act.undo(ed, false)}>Undo</button>
        <button title="Redo (Ctrl+Shift+Z)" @click=${() => act.undo(ed, true)}>Redo</button>` : ''}</span>
      <span class="chip role" title="Your role in this project">${s.role ?? '…'}${s.role === 'viewer' ? ' · read only' : ''}</span>
      <span class=${s.connected ? 'muted' : 'error'}>${s.connected ? 'live' : 'offline — edits are kept and sent on reconnect'}</span>
      <span class="chip" aria-label="status" title="The image's status">${s.status}</span>
      <span class="group">
        ${canEdit ? html`<button @click=${() => act.review(ed, 'submitted')}>Submit for review</button>` : ''}
        ${canReview ? html`<button @click=${() => act.review(ed, 'approved')}>Approve</button>
        <button @click=${() => act.review(ed, 'rejected')}>Reject</button>` : ''}
        ${canEdit ? html`<button @click=${() => act.review(ed, 'in-progress')}>Reopen</button>` : ''}</span>
      <span class="group">
        <button title="Previous image (←)${filter ? ` among ${filter}` : ''}" aria-label="Previous image" @click=${() => act.step(ed, -1)}>←</button>
        <button title="Next image (→)${filter ? ` among ${filter}` : ''}" aria-label="Next image" @click=${() => act.step(ed, 1)}>→</button>
        ${filter ? html`<span class="chip" title="← and → stay within the grid's filter">${filter} only</span>` : ''}
        <button title="Shortcuts (?)" aria-label="Shortcuts" @click=${() => ed.store.update(st => ({ helpOpen: !st.helpOpen }))}>?</button></span>`;
  }
}
customElements.define('vl-toolbar', Toolbar);
