import { html } from 'lit';
import { api, utc, type WorkStage } from '../../api';
import { navigate } from '../../navigation';
import { toast } from '../../toast';
import { atLeast } from '../../session';
import type { EditorState } from '../state';
import * as work from '../work';
import { EditorPanel } from './panel';

const when = (t: string | null | undefined) => t ? utc(t).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '';

/**
 * The image's workflow in the side panel: its stage, who works on it (the lease), its assignees (owners reassign them
 * here), who submitted and reviewed it, its rework rounds and the last rejection.
 */
export class WorkPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.work, s.members, s.role, s.info]; }

  private assignee(stage: WorkStage, current: string | null | undefined) {
    const ed = this.ed, least = stage === 'review' ? 'reviewer' : 'annotator';
    if (!ed.canOwn) return html`<span>${current ?? 'anyone'}</span>`;
    const people = ed.state.members.filter(m => atLeast(m.role, least)).map(m => m.userName);
    if (current && !people.includes(current)) people.push(current);
    return html`<select aria-label="${stage === 'review' ? 'Reviewer' : 'Annotator'} assigned" title="Owners assign the image to a person for this stage"
        @change=${(e: Event) => { const v = (e.target as HTMLSelectElement).value; work.assign(ed, stage, v || null); }}>
      <option value="" ?selected=${!current}>anyone</option>
      ${people.map(p => html`<option value=${p} ?selected=${p === current}>${p}</option>`)}</select>`;
  }

  protected override render() {
    const w = this.ed.state.work;
    if (!w) return html`<h4>Work</h4><p class="muted">…</p>`;
    const r = w.lastRejection;
    return html`<h4>Work <span class="chip stage-chip stage-${w.stage}">${w.stage}</span>${w.reworkRounds ? html` <span class="muted">rework round ${w.reworkRounds}</span>` : ''}</h4>
      <div class="work-facts">
        ${w.leaseHolder && w.leaseExpiresAt ? html`<div>Held by <strong>${w.leaseHolder}</strong> until ${utc(w.leaseExpiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</div>` : ''}
        <div><label>Annotator ${this.assignee('annotate', w.annotateAssignee)}</label></div>
        <div><label>Reviewer ${this.assignee('review', w.reviewAssignee)}</label></div>
        ${w.submittedBy ? html`<div class="muted">Submitted by ${w.submittedBy} ${when(w.submittedAt)}</div>` : ''}
        ${w.reviewedBy ? html`<div class="muted">Reviewed by ${w.reviewedBy} ${when(w.reviewedAt)}</div>` : ''}
        ${r ? html`<div class="rejection">Rejected by ${r.actor}: <strong>${r.reason}</strong>${r.comment ? html` — ${r.comment}` : ''}</div>` : ''}
      </div>
      ${this.ed.state.info?.archivedAt ? html`<p class="archived-note" role="status">Archived: out of the grid, the queue and exports.</p>` : ''}
      ${this.ed.canOwn ? html`<button title="Owners: keep this image with its annotations but take it out of the grid, the queue and exports (undone by Unarchive)"
          @click=${() => this.archive(!this.ed.state.info?.archivedAt)}>${this.ed.state.info?.archivedAt ? 'Unarchive image' : 'Archive image…'}</button>
        <button class="danger" title="Owners: delete this image, its annotations and comments" @click=${() => this.deleteImage()}>Delete image…</button>` : ''}`;
  }

  /** Owners only (the server enforces it too); archiving asks first and goes back to the grid, unarchiving stays. */
  private async archive(archive: boolean) {
    const ed = this.ed, info = ed.state.info;
    if (!info || (archive && !confirm(`Archive ${info.fileName}? It keeps its annotations and history, and leaves the grid, the work queue and exports until it is unarchived (the grid's "archived" filter lists it).`))) return;
    try {
      const image = await api.archiveImage(ed.imageId, archive);
      ed.store.set({ info: image });
      toast(archive ? `${info.fileName} archived` : `${info.fileName} is back in the grid, the queue and exports`);
      if (archive) navigate(`/projects/${info.projectId}`);
    } catch (err) { toast((err as Error).message, true); }
  }

  /** Owners only (the server enforces it too); asks first, then back to the project's grid. */
  private async deleteImage() {
    const ed = this.ed, info = ed.state.info;
    if (!info || !confirm(`Delete ${info.fileName} with its annotations and comments? This cannot be undone.`)) return;
    try {
      await api.deleteImage(ed.imageId);
      toast(`${info.fileName} deleted`);
      navigate(`/projects/${info.projectId}`);
    } catch (err) { toast(`Cannot delete: ${(err as Error).message}`, true); }
  }
}
customElements.define('vl-work-panel', WorkPanel);

/**
 * The banner over the image: why the user cannot change it and what would allow it (submitted or approved), or, on
 * rework, the reviewer's reason and comment. It lets the pointer through to the canvas.
 */
export class WorkBanner extends EditorPanel {
  protected watch(s: EditorState) { return [s.work, s.status, s.role]; }

  protected override render() {
    const ed = this.ed, s = ed.state, lock = ed.lockReason, r = s.work?.lastRejection;
    if (lock && ed.mayEdit) return html`<div class="banner work-banner locked" role="note">Read only: ${lock}.</div>`;
    if (s.status === 'rejected' && r)
      return html`<div class="banner work-banner rework" role="note">Rework: ${r.actor} rejected it — <strong>${r.reason}</strong>${r.comment ? html`: “${r.comment}”` : ''}.
        ${ed.mayEdit ? 'Fix it and submit again (Ctrl+Enter).' : ''}</div>`;
    return html``;
  }
}
customElements.define('vl-work-banner', WorkBanner);
