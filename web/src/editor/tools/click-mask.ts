import type { SegmentResult } from '../../api';
import { toast } from '../../toast';
import type { Editor } from '../editor';
import { maskBitmap } from '../mask-bitmap';
import { createMask, describe, segment } from '../segmenting';
import type { MaskClick, MaskDraft } from '../state';
import { round, type Tool } from './tool';

/**
 * Click to mask: a click inside an object asks the server for its mask, shown as a pending preview (the store's
 * maskDraft, not an annotation); Shift+click marks a point that is not part of it, a further click one that is, and
 * each click asks again with every point so far. Enter (or Accept on the stage) makes the preview a mask of the
 * current label; Esc discards it. The draft lives in the store so the stage's panel (panels/mask-draft.ts) can show it.
 */
export const clickMaskTool: Tool = {
  id: 'click-mask', name: 'Click→mask', key: 'i', edits: true,
  title: 'Click to mask: click inside an object for its mask; Shift+click marks what is not part of it; Enter accepts',
  hint: 'Click to mask: click inside an object (Shift+click: not part of it), Enter accepts, Esc discards',
  help: 'click to mask: click inside an object for a mask preview; each click refines it; Enter accepts it as a mask of the current label, Esc discards it',
  more: [['Shift+click', 'click to mask: a point that is not part of the object'], ['Backspace', 'click to mask: take the last point back']],
  create(ed) {
    /** The preview's bitmap, made once per answer (the overlay repaints on every pointer move). */
    let bitmap: { answer: SegmentResult; color: string; image: ReturnType<typeof maskBitmap> } | null = null;
    return {
      down(p) {
        const info = ed.state.info, draft = ed.state.maskDraft;
        if (!info) return;
        if (p.ix < 0 || p.iy < 0 || p.ix >= info.width || p.iy >= info.height) { toast('Click on the image, inside the object', true); return; }
        if (!draft && p.shift) { toast('Click inside the object first; Shift+click then marks what is not part of it', true); return; }
        if (!ed.state.currentLabel) { toast('The project has no labels: add one first', true); return; }
        const click = { x: round(p.ix), y: round(p.iy), positive: !p.shift };
        ask(ed, [...(draft?.points ?? []), click]);
      },
      key(e) {
        if (!ed.state.maskDraft) return false;
        if (e.key === 'Enter' && !e.shiftKey) { acceptMaskDraft(ed); return true; }
        if (e.key === 'Escape') { discardMaskDraft(ed); return true; }
        if (e.key !== 'Backspace') return false;
        const points = ed.state.maskDraft.points.slice(0, -1);
        if (points.some(c => c.positive)) ask(ed, points); else discardMaskDraft(ed);
        return true;
      },
      cancel() { if (ed.state.maskDraft) ed.store.set({ maskDraft: null }); },
      paint(ctx) {
        const draft = ed.state.maskDraft, v = ed.view;
        if (!draft) return;
        const answer = draft.result?.answer;
        if (answer) {
          const color = ed.state.labels.get(ed.state.currentLabel)?.color ?? '#4c8dff';
          if (bitmap?.answer !== answer || bitmap.color !== color) bitmap = { answer, color, image: maskBitmap(answer.mask as { size: [number, number]; counts: string }, color) };
          const { canvas, x, y } = bitmap.image;
          ctx.save();
          ctx.globalAlpha = 0.45;
          ctx.imageSmoothingEnabled = v.scale < 2;
          ctx.drawImage(canvas, x * v.scale + v.tx, y * v.scale + v.ty, canvas.width * v.scale, canvas.height * v.scale);
          // A dashed outline (the server's) sets the preview apart from the masks already saved, in the same colour.
          ctx.globalAlpha = 1;
          ctx.setLineDash([6, 4]);
          ctx.strokeStyle = '#fff';
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          for (const ring of answer.polygon) {
            for (let i = 0; i + 1 < ring.length; i += 2) {
              const [sx, sy] = v.toScreen(ring[i], ring[i + 1]);
              if (i === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
            }
            ctx.closePath();
          }
          ctx.stroke();
          ctx.restore();
        }
        // The points: green inside the object, red not part of it; a point not answered yet is hollow.
        const answered = draft.result?.points.length ?? 0;
        draft.points.forEach((c, i) => {
          const [sx, sy] = v.toScreen(c.x, c.y);
          ctx.beginPath(); ctx.arc(sx, sy, 5, 0, Math.PI * 2);
          ctx.fillStyle = c.positive ? '#3ccf7a' : '#ff5a5f';
          ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.5;
          if (i < answered) ctx.fill();
          ctx.stroke();
        });
      },
    };
  },
};

let drafts = 0;

/** Sends the points (the draft's own, with a click added or one taken back) and shows the answer when it is still
 *  the latest: clicks quicker than the server each ask, and only the last one's mask is shown. */
function ask(ed: Editor, points: readonly MaskClick[]): void {
  const before = ed.state.maskDraft;
  const draft: MaskDraft = before
    ? { ...before, points, asked: before.asked + 1 }
    : { id: ++drafts, points, asked: 1, answered: 0, result: null, acceptOnAnswer: false };
  ed.store.set({ maskDraft: draft });
  const current = () => { const d = ed.state.maskDraft; return d && d.id === draft.id && d.asked === draft.asked ? d : null; };
  segment(ed, { points: points.map(c => ({ ...c })) }).then(answer => {
    const d = current();
    if (!d) return;
    ed.store.set({ maskDraft: { ...d, answered: d.asked, result: { answer, points } } });
    const negative = points.filter(c => !c.positive).length;
    toast(`Mask preview from ${points.length - negative} point(s) inside${negative ? `, ${negative} outside` : ''} (${describe(answer)}): Enter accepts, Esc discards`);
    if (d.acceptOnAnswer) acceptMaskDraft(ed);
  }, (err: Error) => {
    const d = current();
    if (!d) return;
    // The preview stays that of the points it answered: the click that found nothing is taken back.
    const kept = d.result?.points ?? [];
    ed.store.set({ maskDraft: kept.length ? { ...d, points: kept, answered: d.asked, acceptOnAnswer: false } : null });
    toast(`Click to mask: ${err.message}${kept.length ? ' (the last click was taken back)' : ''}`, true);
  });
}

/** Enter or Accept: the preview becomes a mask of the current label. While a request is out, once it answers. */
export function acceptMaskDraft(ed: Editor): void {
  const d = ed.state.maskDraft;
  if (!d) { toast('Nothing to accept: click inside an object first', true); return; }
  if (d.answered !== d.asked) {
    ed.store.set({ maskDraft: { ...d, acceptOnAnswer: true } });
    toast('Segmenting: the mask is added when it arrives');
    return;
  }
  if (!d.result) return;
  const label = ed.state.currentLabel;
  if (!label) { toast('The project has no labels: add one first', true); return; }
  createMask(ed, label, d.result.answer);
  ed.store.set({ maskDraft: null });
  toast(`Mask of ${ed.labelName(label)} added: M paints on it, K makes it a polygon; click another object for the next`);
}

/** Esc or Discard: the preview is dropped; nothing was saved. */
export function discardMaskDraft(ed: Editor): void {
  if (!ed.state.maskDraft) return;
  ed.store.set({ maskDraft: null });
  toast('Mask preview discarded');
}
