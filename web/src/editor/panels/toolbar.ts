import { html, LitElement } from 'lit';
import { remaining, utc } from '../../api';
import * as act from '../actions';
import type { Editor } from '../editor';
import { toggleHistory } from '../history';
import { tools } from '../tools/registry';
import type { EditorState } from '../state';
import * as work from '../work';
import { EditorPanel } from './panel';

/** Statuses an image is annotated in (submit applies); the others wait for review or are done. */
const annotating = new Set(['new', 'prelabeled', 'in-progress', 'rejected']);

/** What each stage means, for the stage chip's title. */
const stageHelp: Record<string, string> = {
  annotate: 'being annotated: submit it for review when done (Ctrl+Enter)',
  submitted: 'submitted: waits for a reviewer to approve or reject it',
  'in-review': 'a reviewer is reviewing it',
  approved: 'approved: done (an owner can reopen it)',
  rejected: 'rejected: rework for its annotator',
  rework: 'rejected: its annotator is reworking it',
};

/**
 * The editor's top bar: the tools (from the registry), view and history buttons, the image's stage and lease, the
 * workflow actions (submit / approve / reject, each taking the next image from the queue; reopen) and image
 * navigation. It wraps onto a second row rather than scrolling, so every action stays reachable at 1280 px.
 */
export class Toolbar extends EditorPanel {
  protected watch(s: EditorState) { return [s.tool, s.role, s.connected, s.status, s.info, s.project, s.work, s.working, s.viewing, s.historyOpen]; }

  protected override render() {
    const ed = this.ed, s = ed.state, mayEdit = ed.mayEdit, canEdit = ed.canEdit, canReview = ed.canReview;
    const filter = new URLSearchParams(location.search).get('status');
    const stage = s.work?.stage;
    const own = work.ownWork(ed);
    const ownTitle = 'You submitted this image: another reviewer reviews it (or an owner allows self-review in the workflow settings)';
    return html`
      <a href=${s.info ? `/projects/${s.info.projectId}` : '/'}>← ${s.project?.name ?? 'Project'}</a>
      ${s.info ? html`<a href="/projects/${s.info.projectId}/work" title="Your queue, rework and assignments in this project">My work</a>
        <a href="/projects/${s.info.projectId}/guidelines" title="The labeling guidelines: what each label means, with examples">Guidelines</a>` : ''}
      <strong class="file">${s.info?.fileName ?? ''}</strong>
      <span class="group">${tools.filter(t => mayEdit || !t.edits).map(t => {
        const locked = t.edits && !t.keepsWhenLocked && !canEdit;
        return html`<button class="tool ${s.tool === t.id ? 'active' : ''}" ?disabled=${locked}
          title=${locked ? `${t.name}: read only (${ed.readOnlyReason})` : `${t.title ?? t.name} (${t.key.toUpperCase()})`} @click=${() => ed.setTool(t.id)}>${t.name} <kbd>${t.key.toUpperCase()}</kbd></button>`;
      })}</span>
      <span class="group">
        <button title="Fit (F)" @click=${() => ed.fit()}>Fit <kbd>F</kbd></button>
        ${mayEdit ? html`<button title="Undo (Ctrl+Z)" ?disabled=${!canEdit} @click=${() => act.undo(ed, false)}>Undo</button>
        <button title="Redo (Ctrl+Shift+Z)" ?disabled=${!canEdit} @click=${() => act.undo(ed, true)}>Redo</button>` : ''}
        <button title="The image's history: who changed what, when; click an entry to see the image as it was then (Y)" aria-pressed=${String(s.historyOpen)}
          @click=${() => toggleHistory(ed)}>History <kbd>Y</kbd></button></span>
      <span class="chip role" title="Your role in this project">${s.role ?? '…'}${s.role === 'viewer' ? ' · read only' : ''}</span>
      <span class=${s.connected ? 'muted' : 'error'}>${s.connected ? 'live' : 'offline — edits are kept and sent on reconnect'}</span>
      <span class="chip" aria-label="status" title="The image's status">${s.status}</span>
      ${stage ? html`<span class="chip stage-chip stage-${stage}" aria-label="stage" title="Stage: ${stageHelp[stage] ?? stage}">${stage}</span>` : ''}
      <vl-lease .ed=${ed}></vl-lease>
      <span class="group work-actions">
        ${mayEdit && annotating.has(s.status) ? html`<button class="primary" ?disabled=${s.working} @click=${() => work.submitAndNext(ed)}
          title="Submit it for review and take the next image from your queue (Ctrl+Enter)">Submit and next</button>` : ''}
        ${canReview && s.status === 'submitted' ? html`<button class="primary" ?disabled=${s.working || own} @click=${() => work.approveAndNext(ed)}
            title=${own ? ownTitle : 'Approve it and take the next image to review (Ctrl+Enter)'}>Approve and next</button>
          <button ?disabled=${s.working || own} @click=${() => work.openReject(ed)}
            title=${own ? ownTitle : 'Reject it with a reason and a comment: it goes back to its annotator (Ctrl+Shift+Enter)'}>Reject…</button>` : ''}
        ${ed.canOwn && (s.status === 'approved' || s.status === 'submitted') ? html`<button ?disabled=${s.working} @click=${() => work.reopen(ed)}
          title="Owners: back to annotation, for more work">Reopen</button>` : ''}
        ${ed.canOwn && s.status === 'approved' ? html`<button ?disabled=${s.working} @click=${() => work.useAsGroundTruth(ed)}
          title="Owners: this approved image's accepted annotations become its ground truth (replacing any it had); submissions are scored against it on the Quality page">Use as ground truth</button>` : ''}</span>
      <span class="group">
        <button title="Previous image (←)${filter ? ` among ${filter}` : ''}" aria-label="Previous image" @click=${() => act.step(ed, -1)}>←</button>
        <button title="Next image (→)${filter ? ` among ${filter}` : ''}" aria-label="Next image" @click=${() => act.step(ed, 1)}>→</button>
        ${filter ? html`<span class="chip" title="← and → stay within the grid's filter">${filter} only</span>` : ''}
        <button title="Shortcuts (?)" aria-label="Shortcuts" @click=${() => ed.store.update(st => ({ helpOpen: !st.helpOpen }))}>?</button></span>
      <vl-bell></vl-bell>`;
  }
}
customElements.define('vl-toolbar', Toolbar);

/**
 * The image's lease in the bar: yours with its time left counting down (renewed by the editor while it is open,
 * work.ts LeaseKeeper) and a Release button; or who else holds it.
 */
export class LeaseChip extends LitElement {
  ed!: Editor;
  private timer: number | undefined;
  private off: (() => void) | undefined;

  protected override createRenderRoot(): HTMLElement { return this; }

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.ed.store.subscribe(s => [s.work, s.working], () => this.requestUpdate());
    this.timer = window.setInterval(() => { if (this.ed.state.work?.leaseExpiresAt) this.requestUpdate(); }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    window.clearInterval(this.timer);
  }

  protected override render() {
    const ed = this.ed, w = ed.state.work;
    if (!w?.leaseHolder || !w.leaseExpiresAt) return html``;
    const left = remaining(w.leaseExpiresAt), until = utc(w.leaseExpiresAt).toLocaleTimeString();
    if (w.leaseHolder !== ed.user)
      return html`<span class="chip lease other" aria-label="lease" title="${w.leaseHolder} holds this image until ${until}">${w.leaseHolder} · ${left}</span>`;
    const expired = left === '0:00';
    return html`<span class="chip lease mine ${expired ? 'error' : ''}" aria-label="lease"
        title="Your lease: nobody else is given this image until ${until}; the editor renews it while it is open">${expired ? 'lease ran out' : `lease ${left}`}</span>
      <button ?disabled=${ed.state.working} @click=${() => work.release(ed)} title="Give the image back to the queue and go to My work">Release</button>`;
  }
}
customElements.define('vl-lease', LeaseChip);
