import type { Editor } from './editor';
import type { Comment } from './live';

/** The image's comment threads (a reply shares its thread's pin), in the order the comments panel numbers them. */
export function threads(ed: Editor): Comment[] {
  return [...ed.live.comments.values()].filter(c => !c.parentId).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** One pin per comment thread, numbered as the comments panel numbers them; the pin being written is a "+". */
export function paintPins(ctx: CanvasRenderingContext2D, ed: Editor): void {
  const pin = (x: number, y: number, fill: string, text: string) => {
    const [sx, sy] = ed.view.toScreen(x, y);
    ctx.fillStyle = fill;
    ctx.beginPath(); ctx.arc(sx, sy - 10, 9, 0, Math.PI * 2); ctx.fill();
    ctx.beginPath(); ctx.moveTo(sx - 5, sy - 5); ctx.lineTo(sx, sy); ctx.lineTo(sx + 5, sy - 5); ctx.fill();
    ctx.fillStyle = '#000'; ctx.font = 'bold 11px system-ui'; ctx.textAlign = 'center'; ctx.fillText(text, sx, sy - 6); ctx.textAlign = 'start';
  };
  threads(ed).forEach((c, i) => pin(c.x, c.y, c.resolved ? '#5b6573' : '#ffb020', String(i + 1)));
  const draft = ed.state.commentDraft;
  if (draft) pin(draft.x, draft.y, '#4c8dff', '+');
}

/** Everyone else's selection, the shape they are editing, and their cursor; returns how many cursors it drew. */
export function paintPresence(ctx: CanvasRenderingContext2D, ed: Editor): number {
  const shapes = ed.live.shapes(), view = ed.view;
  let cursors = 0;
  for (const [connection, p] of ed.live.presence) {
    const who = ed.live.participants.get(connection);
    if (!who) continue;
    for (const id of [...(p.selection ?? []), ...(p.editing ? [p.editing] : [])]) {
      const s = shapes.get(id);
      if (!s) continue;
      const [x0, y0] = view.toScreen(s.bounds[0], s.bounds[1]), [x1, y1] = view.toScreen(s.bounds[2], s.bounds[3]);
      ctx.strokeStyle = who.color;
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x0 - 3, y0 - 3, x1 - x0 + 6, y1 - y0 + 6);
      ctx.setLineDash([]);
      if (p.editing === id) { ctx.fillStyle = who.color; ctx.font = '12px system-ui'; ctx.fillText(`${who.name} is editing`, x0, y0 - 6); }
    }
    if (!p.cursor) continue;
    cursors++;
    const [sx, sy] = view.toScreen(p.cursor.x, p.cursor.y);
    ctx.fillStyle = who.color;
    ctx.beginPath();
    ctx.moveTo(sx, sy); ctx.lineTo(sx + 12, sy + 4); ctx.lineTo(sx + 4, sy + 12); ctx.closePath(); ctx.fill();
    ctx.font = '12px system-ui';
    ctx.fillText(who.name, sx + 12, sy + 22);
  }
  return cursors;
}
