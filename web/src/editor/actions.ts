import type { Mask } from '../api';
import { navigate } from '../navigation';
import { toast } from '../toast';
import type { Editor } from './editor';
import { MaskPainter } from './mask-painter';
import { toggled } from './state';
import { traceRings } from './trace';

// The editor's actions besides drawing: shortcuts (shortcuts.ts) and panel buttons call these. Each says what it did.

/** Viewers, and everyone on an image its stage keeps edits out of, are told why instead of seeing a change the server would refuse. */
function readOnly(ed: Editor): boolean {
  if (!ed.canEdit) toast(`Read only: ${ed.readOnlyReason ?? 'you cannot change this image'}`, true);
  return !ed.canEdit;
}

/** A digit: the label the next shape gets. The selection keeps its label (Shift+digit relabels it). */
export function pickLabel(ed: Editor, labelId: string): void {
  const label = ed.state.project?.labels.find(l => l.id === labelId);
  if (!label) return;
  ed.store.set({ currentLabel: label.id });
  toast(`Next shape: ${label.name}${ed.state.selected.size && label.hotkey ? ` (Shift+${label.hotkey.toUpperCase()} relabels the selection)` : ''}`);
}

/** A label's key (labels' keys: Projects/LabelRules.Hotkeys): picks that label, or with Shift relabels the selection. */
export function labelKey(ed: Editor, key: string, relabelSelection: boolean): void {
  const label = ed.state.project?.labels.find(l => l.hotkey === key);
  if (!label) { toast(`No label has the key ${key.toUpperCase()}; owners give labels keys on the project page`, true); return; }
  if (relabelSelection && ed.state.selected.size) relabel(ed, label.id); else pickLabel(ed, label.id);
}

/** Sets one attribute of a shape (the objects list's card); the other values stay. */
export function setAttribute(ed: Editor, id: string, name: string, value: unknown): void {
  if (readOnly(ed)) return;
  const shape = ed.live.shapes().get(id);
  if (!shape) return;
  const attributes: Record<string, unknown> = { ...shape.attributes };
  if (value === undefined) delete attributes[name]; else attributes[name] = value;
  ed.live.update(id, { attributes });
  toast(`${name}: ${value === undefined ? 'cleared' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value)}`);
}

/** Relabels the given shapes (the selection by default): Shift+digit, or the objects list. */
export function relabel(ed: Editor, labelId: string, ids: Iterable<string> = ed.state.selected): void {
  const list = [...ids];
  if (list.length === 0) { toast('Select a shape to relabel first', true); return; }
  if (readOnly(ed)) return;
  for (const id of list) ed.live.update(id, { labelId });
  toast(`${list.length} shape(s) relabelled ${ed.labelName(labelId)}`);
}

export function setState(ed: Editor, state: 'accepted' | 'rejected', ids: Iterable<string> = ed.state.selected): void {
  const list = [...ids];
  if (list.length === 0) { toast('Select a shape first (V, then click it)', true); return; }
  if (readOnly(ed)) return;
  for (const id of list) ed.live.update(id, { state });
  toast(`${list.length} shape(s) ${state}`);
}

/** Walks the proposals still to review, highest score first, so a reviewer can go through them by keyboard. */
export function nextProposal(ed: Editor, direction: number): void {
  const proposals = [...ed.shapes().values()].filter(s => s.state === 'proposed' && !ed.state.locked.has(s.id))
    .sort((a, b) => (b.source.score ?? 0) - (a.source.score ?? 0) || a.id.localeCompare(b.id));
  if (proposals.length === 0) { toast('No proposals left to review'); return; }
  const at = proposals.findIndex(p => ed.state.selected.has(p.id));
  const next = proposals[(at + direction + proposals.length) % proposals.length] ?? proposals[0];
  ed.select([next.id]);
  toast(`${ed.labelName(next.labelId)} ${((next.source.score ?? 0) * 100).toFixed(0)}% — A accepts, R rejects`);
}

/** Accepts the proposals scoring at or above the slider (the others stay proposed), and says which. */
export function acceptAbove(ed: Editor): void {
  if (readOnly(ed)) return;
  const threshold = ed.state.scoreThreshold;
  const proposals = [...ed.live.shapes().values()].filter(s => s.state === 'proposed' && (s.source.score ?? 0) >= threshold);
  for (const s of proposals) ed.live.update(s.id, { state: 'accepted' });
  toast(`Accepted ${proposals.length} proposal(s) at or above ${threshold.toFixed(2)}`);
}

export function deleteSelected(ed: Editor): void {
  const ids = [...ed.state.selected];
  if (ids.length === 0) { toast('Select a shape to delete first', true); return; }
  if (readOnly(ed)) return;
  for (const id of ids) ed.live.remove(id);
  toast(`Deleted ${ids.length} shape(s)`);
  ed.select([]);
}

export function hideSelected(ed: Editor): void {
  const ids = [...ed.state.selected];
  ed.store.update(s => ({ hiddenShapes: toggled(s.hiddenShapes, ids, true) }));
  toast(`${ids.length} shape(s) hidden (Shift+H shows them)`);
  ed.select([]);
}

export function showAll(ed: Editor): void {
  toast(`${ed.state.hiddenShapes.size} hidden shape(s) shown`);
  ed.store.set({ hiddenShapes: new Set() });
}

export async function undo(ed: Editor, redo: boolean): Promise<void> {
  if (readOnly(ed)) return;
  try {
    const problem = await ed.live.undo(redo);
    toast(problem ? `Cannot ${redo ? 'redo' : 'undo'}: ${problem}` : redo ? 'Redone' : 'Undone', !!problem);
  } catch { toast('Undo needs the connection; try again when it is back', true); }
}

/** The previous or next image, within the grid's status filter (the query string carries it). */
export function step(ed: Editor, direction: number): void {
  const list = ed.state.neighbours;
  const at = list.indexOf(ed.imageId);
  const next = at < 0 ? undefined : list[at + direction];
  const filter = new URLSearchParams(location.search).get('status');
  const within = filter ? ` ${filter}` : '';
  if (!next) { toast(direction > 0 ? `This is the last${within} image` : `This is the first${within} image`); return; }
  navigate(`/images/${next}${location.search}`);
}

export function resizeBrush(ed: Editor, grow: boolean): void {
  const brushRadius = Math.max(1, Math.min(300, Math.round(ed.state.brushRadius * (grow ? 1.25 : 0.8))));
  ed.store.set({ brushRadius });
  ed.redrawOverlay();
  toast(`Brush ${brushRadius} px`);
}

/** Polygon → mask (rasterised at full resolution), or mask → its polygon outline (as models propose it). */
export function convert(ed: Editor): void {
  const s = ed.single(), info = ed.state.info;
  if (!s || !info) { toast('Select one polygon or mask to convert', true); return; }
  if (readOnly(ed)) return;
  if (s.kind === 'polygon') {
    const rings = (s.geometry as { rings: number[][] }).rings;
    const painter = new MaskPainter(info.width, info.height, '#ffffff');
    painter.fillRings(rings);
    const rle = painter.toRle();
    if (!rle) { toast('The polygon covers no pixel', true); return; }
    ed.live.update(s.id, { kind: 'mask', geometry: { ...rle, polygons: rings } });
    toast('Polygon converted to a mask');
  } else if (s.kind === 'mask') {
    let outline = (s.geometry as Mask).polygons;
    if (!outline?.length) {
      // A painted mask has no outline: trace it (each region's boundary, its holes joined in by keyhole bridges, simplified to within 0.75 px).
      const painter = new MaskPainter(info.width, info.height, '#ffffff', s.geometry as Mask);
      outline = traceRings(painter.pixels, info.width, info.height);
      if (!outline.length) { toast('The mask is empty', true); return; }
    }
    ed.live.update(s.id, { kind: 'polygon', geometry: { rings: outline } });
    toast('Mask converted to its polygon outline');
  } else toast('Boxes convert to nothing; draw a polygon (P) or a mask (M)', true);
}
