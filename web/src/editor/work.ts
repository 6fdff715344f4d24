import { api, type SubmissionFeedback, type WorkStage, type WorkState } from '../api';
import { unacknowledged } from '../guidelines/guidelines-api';
import { navigate } from '../navigation';
import { onboardingRefusal, type OnboardingRefused } from '../pages/onboarding';
import { atLeast } from '../session';
import { toast } from '../toast';
import type { Editor } from './editor';
import type { EditorState } from './state';

// The image's place in the workflow (issue #22), in the editor: what keeps edits out, the workflow actions with
// "… and next" (the pull queue), and the lease heartbeat. The rules are the server's (Annotations/Review/WorkflowRules.cs):
// this only avoids offering what it would refuse, and says why.

/**
 * Why this user cannot change the image's annotations now, or null: viewers never; a submitted image waits for review
 * (read-only below the reviewer role); an approved image is done (read-only for everyone until an owner reopens it).
 * The server refuses the same ops (ImageStatusRules.EditProblem); the editor says so before anyone draws.
 */
export function lockReason(s: Readonly<EditorState>): string | null {
  if (!s.role) return null; // not known yet: nothing is offered until it is
  if (!atLeast(s.role, 'annotator')) return 'you are a viewer in this project (an owner can change your role)';
  if (s.status === 'approved')
    return atLeast(s.role, 'owner') ? 'the image is approved; reopen it (Reopen) to change it'
      : 'the image is approved and done; an owner can reopen it for more work';
  if (s.status === 'submitted' && !atLeast(s.role, 'reviewer'))
    return 'the image is submitted and waits for review; a reviewer can reject it for rework, or an owner reopen it';
  return null;
}

/** What the server said when it refused a hub call ("HubException: 409 Already submitted: …" → its detail). */
export function hubProblem(err: unknown): string {
  const message = String((err as Error)?.message ?? err);
  const hub = /HubException: (?:\d{3} [^:]*: )?([\s\S]*)$/.exec(message);
  if (hub) return hub[1];
  return /connection|disconnected/i.test(message) ? 'this needs the live connection; try again when it is back' : message;
}

/** The user holds the image's lease now. */
export function holdsLease(ed: Editor): boolean {
  const w = ed.state.work;
  return !!w?.leaseHolder && w.leaseHolder === ed.user && !!w.leaseExpiresAt;
}

/** A review of this image by this user would be refused as their own work. */
export function ownWork(ed: Editor): boolean {
  const s = ed.state;
  return !!s.work?.submittedBy && s.work.submittedBy === ed.user && !s.project?.workflow.allowSelfReview;
}

async function call(ed: Editor, failed: string, fn: () => Promise<WorkState>): Promise<WorkState | undefined> {
  if (ed.state.working) return undefined;
  ed.store.set({ working: true });
  try {
    const state = await fn();
    ed.store.set({ work: state, status: state.status });
    return state;
  } catch (err) {
    toast(`${failed}: ${hubProblem(err)}`, true);
    return undefined;
  } finally { ed.store.set({ working: false }); }
}

/**
 * Takes the next image of a stage from the queue and opens it; when nothing is left, back to My work, which says so.
 * `done` is what was just done, said first.
 */
export async function openNext(ed: Editor, stage: WorkStage, done: string): Promise<void> {
  const projectId = ed.state.info?.projectId;
  if (!projectId) return;
  try {
    const lease = await api.queueNext(projectId, stage);
    if (lease && lease.imageId !== ed.imageId) {
      toast(`${done}. Next image${lease.rework ? ' (rework)' : ''}`);
      navigate(`/images/${lease.imageId}`);
    } else if (lease) {
      toast(`${done}. This image is still yours to ${stage}`);
    } else {
      toast(`${done}. Nothing left for you to ${stage}`);
      navigate(`/projects/${projectId}/work?done=${stage}`);
    }
  } catch (err) {
    // A major guidelines version to acknowledge first: My work says what changed and leads to reading it.
    const version = unacknowledged(err);
    if (version) { toast(`${done}. Guidelines ${version} must be acknowledged before your next image`, true); navigate(`/projects/${projectId}/work`); return; }
    // Onboarding not passed and no onboarding image left: My work's onboarding card says why, with the figures.
    const notOnboarded = onboardingRefusal(err);
    if (notOnboarded) {
      toast(`${done}. Onboarding not passed: no onboarding image is left for you`, true);
      navigate(`/projects/${projectId}/work`, { onboardingRefused: notOnboarded } satisfies OnboardingRefused);
      return;
    }
    toast(`${done}, but no next image: ${(err as Error).message}`, true);
  }
}

/** Ctrl+Enter: submit and next while annotating; approve and next for a reviewer on a submitted image. */
export function primary(ed: Editor): void {
  const status = ed.state.status;
  if (status === 'submitted' && ed.canReview) { approveAndNext(ed); return; }
  if (status === 'submitted' || status === 'approved') { toast(`Nothing to submit: ${ed.lockReason ?? `the image is ${status}`}`, true); return; }
  submitAndNext(ed);
}

export async function submitAndNext(ed: Editor): Promise<void> {
  if (!ed.mayEdit) { toast(`Cannot submit: ${ed.lockReason}`, true); return; }
  // Ops already sent reach the server before this call (one connection, calls in order); unsent ones (offline) would not.
  if (!ed.state.connected) { toast('Not submitted: this needs the live connection (your unsent changes first); try again when it is back', true); return; }
  const state = await call(ed, 'Not submitted', () => ed.live.submitImage());
  if (!state) return;
  // A honeypot: its score is shown first; the next image comes when the annotator has read it.
  if (state.feedback) {
    await showFeedback(ed, state.feedback);
    await openNext(ed, 'annotate', `Submitted (honeypot F1 ${state.feedback.f1.toFixed(2)})`);
    return;
  }
  await openNext(ed, 'annotate', state.status === 'approved' ? 'Submitted and approved (outside the review sample)' : 'Submitted for review');
}

/** Shows a honeypot's feedback (panels/feedback-dialog.ts); resolves when the annotator closes it. */
export function showFeedback(ed: Editor, feedback: SubmissionFeedback): Promise<void> {
  return new Promise(resolve => {
    ed.store.set({ feedback });
    const off = ed.store.subscribe(s => s.feedback, f => { if (!f) { off(); resolve(); } });
  });
}

/** The queue a review of this image continues with: adjudication for a merged image whose annotators disagreed. */
export function reviewQueue(ed: Editor): 'review' | 'adjudicate' {
  const s = ed.state;
  return s.work?.leaseStage === 'adjudicate' || s.replicas?.needsAdjudication ? 'adjudicate' : 'review';
}

export async function approveAndNext(ed: Editor): Promise<void> {
  if (!ed.canReview) { toast('Approving needs the reviewer role in this project', true); return; }
  const queue = reviewQueue(ed);
  if (await call(ed, 'Not approved', () => ed.live.approveImage())) await openNext(ed, queue, 'Approved');
}

/** Opens the reject dialog (panels/reject-dialog.ts) when the image can be rejected. */
export function openReject(ed: Editor): void {
  if (!ed.canReview) { toast('Rejecting needs the reviewer role in this project', true); return; }
  if (ed.state.status !== 'submitted') { toast(`Only submitted images are rejected; this one is ${ed.state.work?.stage ?? ed.state.status}`, true); return; }
  if (ownWork(ed)) { toast('You submitted this image; another reviewer reviews it (or an owner allows self-review)', true); return; }
  ed.store.set({ rejectOpen: true });
}

export async function rejectAndNext(ed: Editor, reason: string, comment: string): Promise<void> {
  const queue = reviewQueue(ed);
  const state = await call(ed, 'Not rejected', () => ed.live.rejectImage(reason, comment.trim() || null));
  if (!state) return;
  ed.store.set({ rejectOpen: false });
  await openNext(ed, queue, `Rejected (${reason}): back to ${state.submittedBy ?? 'its annotator'} as rework`);
}

export async function reopen(ed: Editor): Promise<void> {
  if (!ed.canOwn) { toast('Reopening needs the owner role in this project', true); return; }
  if (await call(ed, 'Not reopened', () => ed.live.reopenImage())) toast('Reopened: the image is back in annotation');
}

/**
 * Owners, on an approved image: its accepted annotations become its ground truth (replacing any it had), against which
 * submissions are scored (the Quality page). Nothing of the ground truth is shown here: annotators never see it.
 */
export async function useAsGroundTruth(ed: Editor): Promise<void> {
  if (!ed.canOwn) { toast('Making ground truth needs the owner role in this project', true); return; }
  if (ed.state.status !== 'approved') { toast(`Only an approved image becomes ground truth; this one is ${ed.state.status}`, true); return; }
  if (ed.state.working) return;
  ed.store.set({ working: true });
  try {
    const { annotations } = await api.groundTruthFromApproved(ed.imageId);
    toast(annotations > 0
      ? `Ground truth set: ${annotations} shape(s) from this approved image (replacing any it had); submissions of it are scored against them`
      : 'This approved image has no accepted annotations, so it has no ground truth now (images without ground truth are not scored)');
  } catch (err) { toast(`Not made ground truth: ${(err as Error).message}`, true); }
  finally { ed.store.set({ working: false }); }
}

/** Gives the lease back (skip this image for now) and goes back to My work. */
export async function release(ed: Editor): Promise<void> {
  if (await call(ed, 'Lease not released', () => ed.live.releaseLease())) {
    toast('Lease given back: someone else can take this image');
    if (ed.state.info) navigate(`/projects/${ed.state.info.projectId}/work`);
  }
}

/** Owners: assigns the image to someone for a stage (null unassigns it). */
export async function assign(ed: Editor, stage: WorkStage, assignee: string | null): Promise<void> {
  const info = ed.state.info;
  if (!info) return;
  try {
    await api.assign(info.projectId, stage, [ed.imageId], assignee);
    const { state } = await api.imageWork(ed.imageId);
    ed.store.set({ work: state });
    toast(assignee ? `Assigned to ${assignee} to ${stage}` : `No longer assigned to anyone to ${stage}`);
  } catch (err) { toast(`Not assigned: ${(err as Error).message}`, true); }
}

/**
 * The lease heartbeat: while the editor is open and this user holds the image's lease, RenewLease every third of the
 * project's lease time (never more often than every 5 s), so an open editor keeps its image and a closed one lets it
 * go when the lease runs out.
 */
export class LeaseKeeper {
  private timer: number | undefined;
  private period = 0;
  private wasConnected = false;
  private readonly off: () => void;

  constructor(private readonly ed: Editor) {
    this.off = ed.store.subscribe(s => [s.work?.leaseHolder, s.project?.workflow.leaseSeconds, s.connected], () => this.update());
    this.update();
  }

  dispose(): void {
    this.off();
    window.clearInterval(this.timer);
    this.timer = undefined;
  }

  private update(): void {
    const seconds = this.ed.state.project?.workflow.leaseSeconds;
    const wanted = holdsLease(this.ed) && seconds !== undefined;
    const period = Math.max(5, (seconds ?? 0) / 3) * 1000;
    if (this.timer !== undefined && (!wanted || period !== this.period)) { window.clearInterval(this.timer); this.timer = undefined; }
    const connected = this.ed.state.connected, reconnected = connected && !this.wasConnected;
    this.wasConnected = connected;
    if (!wanted) return;
    // The lease may have little time left (opened from My work, or back after a disconnection): renew straight away.
    if (this.timer === undefined) {
      this.period = period;
      this.timer = window.setInterval(() => this.beat(), period);
      this.beat();
    } else if (reconnected) this.beat();
  }

  private async beat(): Promise<void> {
    if (!this.ed.live.connected || !holdsLease(this.ed)) return;
    try { this.ed.store.set({ work: await this.ed.live.renewLease() }); }
    catch (err) {
      toast(`Your lease on this image was not renewed: ${hubProblem(err)}`, true);
      try { this.ed.store.set({ work: (await api.imageWork(this.ed.imageId)).state }); } catch { /* shown as it was */ }
    }
  }
}
