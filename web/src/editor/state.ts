import type { GeometryJson, ImageInfo, Label, Project, Replicas, SegmentResult, SubmissionFeedback, WorkState } from '../api';
import type { Member, Role } from '../session';
import type { Shape } from './shapes';

/** Everything the editor's canvas and panels show, in one store (see store.ts). Live data is counted by versions. */
export interface EditorState {
  info: ImageInfo | undefined;
  project: Project | undefined;
  labels: ReadonlyMap<string, Label>;
  role: Role | undefined;
  /** The image's review status, as the server last said it. */
  status: string;
  /** The image's place in the workflow (stage, lease, assignees, last rejection), as the server last said it (WorkChanged). */
  work: WorkState | undefined;
  /** The project's members (owners assign work to them). */
  members: readonly Member[];
  /** A comment pin placed with the comment tool, waiting for its text in the comments panel (image pixels). */
  commentDraft: { x: number; y: number } | null;
  /** The reject dialog is open. */
  rejectOpen: boolean;
  /** A honeypot's score, shown (panels/feedback-dialog.ts) until closed; submit and next waits for it. */
  feedback: SubmissionFeedback | null;
  /** The image's private copies and agreement (reviewers and owners; null: none, or not theirs to see). */
  replicas: Replicas | null;
  /** A workflow call (submit, approve, reject, reopen) is on its way: its buttons wait. */
  working: boolean;
  connected: boolean;
  tool: string;
  /** The label the next shape gets (digits pick it; Shift+digit relabels the selection). */
  currentLabel: string;
  selected: ReadonlySet<string>;
  hiddenLabels: ReadonlySet<string>;
  hiddenShapes: ReadonlySet<string>;
  /** Shapes this user locked: the canvas does not select or move them (local only, nothing is sent). */
  locked: ReadonlySet<string>;
  fillOpacity: number;
  scoreThreshold: number;
  brushRadius: number;
  helpOpen: boolean;
  /** The images ← and → walk: the project's, within the grid's status filter when the grid had one. */
  neighbours: readonly string[];
  /** The live shapes changed: bumped per change, with the ids that changed (null: anything). */
  shapes: { version: number; changed: string[] | null };
  comments: number;
  presence: number;
  /** Bumped when the view transform changes (zoom, pan, fit, resize). */
  view: number;
  /** A shape being dragged, at its dragged geometry; or being painted (geometry null: hidden from the base). */
  preview: { id: string; geometry: GeometryJson | null } | null;
  /** Bumped by tools when what they paint on the overlay changed. */
  overlay: number;
  /** Box to mask and click to mask requests on their way to the server (segmenting.ts): the stage says "segmenting…". */
  segmenting: number;
  /** Scissors requests the person waits on (a click fixing a segment, closing): the stage says "Tracing…". */
  tracing: number;
  /** Click to mask's pending preview, not yet an annotation (tools/click-mask.ts). */
  maskDraft: MaskDraft | null;
  /** The history panel is shown (Y). */
  historyOpen: boolean;
  /** A past state shown read-only instead of the live one (history.ts); live ops keep landing underneath. */
  viewing: HistoryView | null;
}

/** The image's annotations right after op `seq` (by `author`, at `at`), as the history panel asked for them. */
export interface HistoryView { seq: number; at: string; author: string; shapes: Map<string, Shape> }

/** A click of click to mask, in image pixels: inside the object (positive) or not part of it (Shift+click). */
export interface MaskClick { x: number; y: number; positive: boolean }

export interface MaskDraft {
  /** Which draft: an answer to one discarded or accepted meanwhile is dropped. */
  id: number;
  /** Every click so far; each click asks again with all of them. */
  points: readonly MaskClick[];
  /** Requests sent for this draft, and the number of the last one answered: only the latest request's answer counts. */
  asked: number;
  answered: number;
  /** The latest answer and the clicks it answered (null until the first arrives). */
  result: { answer: SegmentResult; points: readonly MaskClick[] } | null;
  /** Enter came while a request was out: accept once it answers. */
  acceptOnAnswer: boolean;
}

export const initialState = (): EditorState => ({
  info: undefined, project: undefined, labels: new Map(), role: undefined, status: '', work: undefined, members: [], commentDraft: null,
  rejectOpen: false, feedback: null, replicas: null, working: false, connected: false,
  tool: 'select', currentLabel: '', selected: new Set(), hiddenLabels: new Set(), hiddenShapes: new Set(), locked: new Set(),
  fillOpacity: 0.15, scoreThreshold: 0.5, brushRadius: 12, helpOpen: false, neighbours: [],
  shapes: { version: 0, changed: null }, comments: 0, presence: 0, view: 0, preview: null, overlay: 0, segmenting: 0, tracing: 0, maskDraft: null,
  historyOpen: false, viewing: null,
});

/** A copy of a set with ids added or removed (store values are replaced, never changed in place). */
export function toggled<T>(set: ReadonlySet<T>, ids: Iterable<T>, on: boolean): Set<T> {
  const next = new Set(set);
  for (const id of ids) if (on) next.add(id); else next.delete(id);
  return next;
}
