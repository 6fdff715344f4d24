import { utc, type HistoryState } from '../api';
import { toast } from '../toast';
import type { Editor } from './editor';
import { bounds, type Shape } from './shapes';

// The image's history (issue #27): the panel lists the op log (panels/history.ts); clicking an entry shows the state
// after that op instead of the live one. The live state is not touched meanwhile: Applied ops keep landing in it, and
// "Back to now" shows it again with whatever arrived. Editing is off while a past state is on show (Editor.canEdit).

/** Shows a past state (read only): the canvas and the objects list draw it until backToNow. */
export function showState(ed: Editor, state: HistoryState): void {
  ed.session.cancel?.(); // a half-drawn shape belongs to the live state
  const shapes = new Map<string, Shape>(state.annotations.map(a => [a.id, {
    id: a.id, labelId: a.labelId, kind: a.kind, geometry: a.geometry, state: a.state, source: a.source, attributes: a.attributes, bounds: bounds(a.kind, a.geometry),
  }]));
  ed.store.set({ viewing: { seq: state.seq, at: state.at, author: state.author, shapes }, preview: null });
  ed.select([]); // ids selected now may not exist then
  shapesReplaced(ed);
}

/** Back to the live state (Esc, the banner's button, closing the panel). */
export function backToNow(ed: Editor): void {
  if (!ed.state.viewing) return;
  ed.store.set({ viewing: null });
  ed.select([]);
  shapesReplaced(ed);
  toast('Back to now: the live state, with every change made meanwhile');
}

/** Y: shows or hides the history panel; hiding it leaves a past state too. */
export function toggleHistory(ed: Editor): void {
  const open = !ed.state.historyOpen;
  ed.store.set({ historyOpen: open });
  if (!open) backToNow(ed);
  toast(open ? 'History: click an entry to see the image as it was then (Y hides it)' : 'History hidden');
}

/** Every shape on show changed at once: the canvas repaints all, the objects list rebuilds. */
function shapesReplaced(ed: Editor): void {
  ed.store.update(s => ({ shapes: { version: s.shapes.version + 1, changed: null } }));
}

/** "10:42" today, "3 Dec, 10:42" before: when an op was applied, in local time. */
export function clock(at: string, now = new Date()): string {
  const d = utc(at), time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === now.toDateString() ? time : `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })}, ${time}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(at: string, now = Date.now()): string {
  const s = Math.max(0, (now - utc(at).getTime()) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  const days = Math.round(s / 86400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}
