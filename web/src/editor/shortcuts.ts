import { labelKeys } from '../api';
import * as act from './actions';
import type { Editor } from './editor';
import { backToNow, toggleHistory } from './history';
import * as work from './work';

/**
 * The editor's shortcuts that are not tools (tools declare theirs in tools/). The keyboard handler and the ? overlay
 * both read this list, so a shortcut cannot exist without its help line. `match` sees only keys without Ctrl/Alt,
 * except where `ctrl` is set.
 */
export interface Shortcut {
  readonly keys: string;
  readonly help: string;
  readonly ctrl?: boolean;
  match(e: KeyboardEvent): boolean;
  run(ed: Editor, e: KeyboardEvent): void;
}

const key = (k: string, shift?: boolean) => (e: KeyboardEvent) => e.key.toLowerCase() === k && (shift === undefined || e.shiftKey === shift);
/** The label key pressed, if it is one of the keys labels can have (digits by their code: Shift+1 is '!' as a key on most
 *  layouts; letters by their key). The letters are ones no tool or command uses. */
const labelKey = (e: KeyboardEvent): string => {
  const k = /^(?:Digit|Numpad)([0-9])$/.exec(e.code)?.[1] ?? e.key.toLowerCase();
  return (labelKeys as readonly string[]).includes(k) ? k : '';
};

export const shortcuts: readonly Shortcut[] = [
  { keys: '1 … 9, 0, Q W T U O D G J N Z', help: 'a label\'s key (shown beside it in Labels): the label of the next shape you draw', match: e => !e.shiftKey && !!labelKey(e),
    run: (ed, e) => act.labelKey(ed, labelKey(e), false) },
  { keys: 'Shift+label key', help: 'relabel the selected shape(s)', match: e => e.shiftKey && !!labelKey(e), run: (ed, e) => act.labelKey(ed, labelKey(e), true) },
  { keys: 'Tab / Shift+Tab', help: 'select the next / previous proposal (highest score first)', match: e => e.key === 'Tab', run: (ed, e) => act.nextProposal(ed, e.shiftKey ? -1 : 1) },
  { keys: 'A / R', help: 'accept / reject the selected proposal', match: e => key('a', false)(e) || key('r')(e), run: (ed, e) => act.setState(ed, e.key.toLowerCase() === 'a' ? 'accepted' : 'rejected') },
  { keys: 'Shift+A', help: 'accept every proposal scoring at or above the "Accept ≥" slider (the others stay proposed)', match: key('a', true), run: ed => act.acceptAbove(ed) },
  { keys: 'H / Shift+H', help: 'hide the selected shapes / show every hidden shape', match: key('h'), run: (ed, e) => e.shiftKey ? act.showAll(ed) : act.hideSelected(ed) },
  { keys: 'K', help: 'convert the selected polygon to a mask, or a mask to its polygon outline', match: key('k'), run: ed => act.convert(ed) },
  { keys: '[ / ]', help: 'smaller / larger brush', match: e => e.key === '[' || e.key === ']', run: (ed, e) => act.resizeBrush(ed, e.key === ']') },
  { keys: 'Delete', help: 'delete the selected shape', match: e => e.key === 'Delete' || e.key === 'Backspace', run: ed => act.deleteSelected(ed) },
  { keys: 'Ctrl+Z / Ctrl+Shift+Z', help: 'undo / redo your own last change (Ctrl+Y redoes too)', ctrl: true,
    match: e => (e.ctrlKey || e.metaKey) && (key('z')(e) || key('y')(e)), run: (ed, e) => act.undo(ed, e.shiftKey || e.key.toLowerCase() === 'y') },
  { keys: 'Ctrl+Enter', help: 'submit the image for review and take the next one from your queue; on a submitted image, reviewers: approve it and take the next to review', ctrl: true,
    match: e => (e.ctrlKey || e.metaKey) && !e.shiftKey && e.key === 'Enter', run: ed => work.primary(ed) },
  { keys: 'Ctrl+Shift+Enter', help: 'reviewers, on a submitted image: reject it (pick a reason, add a comment), then take the next to review', ctrl: true,
    match: e => (e.ctrlKey || e.metaKey) && e.shiftKey && e.key === 'Enter', run: ed => work.openReject(ed) },
  { keys: 'F', help: 'fit the image', match: key('f'), run: ed => ed.fit() },
  { keys: '← / →', help: 'previous / next image (within the grid\'s status filter, when it had one)', match: e => e.key === 'ArrowLeft' || e.key === 'ArrowRight', run: (ed, e) => act.step(ed, e.key === 'ArrowRight' ? 1 : -1) },
  { keys: 'Y', help: 'show / hide the image\'s history: who changed what, when; click an entry to see the image as it was then', match: key('y', false), run: ed => toggleHistory(ed) },
  { keys: 'Esc', help: 'cancel the drawing, clear the selection, close this help, leave a past state of the history (back to now)', match: e => e.key === 'Escape',
    run: ed => { ed.session.cancel?.(); ed.store.set({ helpOpen: false }); ed.select([]); backToNow(ed); ed.redrawOverlay(); } },
  { keys: '?', help: 'this help', match: e => e.key === '?', run: ed => ed.store.update(s => ({ helpOpen: !s.helpOpen })) },
];

/** Mouse gestures, listed in ? with the shortcuts. */
export const gestures: readonly (readonly [string, string])[] = [
  ['Wheel', 'zoom at the cursor'],
  ['Space+drag, middle drag', 'pan'],
  ['Objects list', 'click a shape to select it and bring it into view; relabel, hide or lock it there'],
];
