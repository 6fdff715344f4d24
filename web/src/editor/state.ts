import type { GeometryJson, ImageInfo, Label, Project, Replicas, SubmissionFeedback, WorkState } from '../api';
import type { Member, Role } from '../session';

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
}

export const initialState = (): EditorState => ({
  info: undefined, project: undefined, labels: new Map(), role: undefined, status: '', work: undefined, members: [], commentDraft: null,
  rejectOpen: false, feedback: null, replicas: null, working: false, connected: false,
  tool: 'select', currentLabel: '', selected: new Set(), hiddenLabels: new Set(), hiddenShapes: new Set(), locked: new Set(),
  fillOpacity: 0.15, scoreThreshold: 0.5, brushRadius: 12, helpOpen: false, neighbours: [],
  shapes: { version: 0, changed: null }, comments: 0, presence: 0, view: 0, preview: null, overlay: 0,
});

/** A copy of a set with ids added or removed (store values are replaced, never changed in place). */
export function toggled<T>(set: ReadonlySet<T>, ids: Iterable<T>, on: boolean): Set<T> {
  const next = new Set(set);
  for (const id of ids) if (on) next.add(id); else next.delete(id);
  return next;
}
