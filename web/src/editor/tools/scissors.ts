import { api } from '../../api';
import { toast } from '../../toast';
import { MaskPainter } from '../mask-painter';
import type { Tool } from './tool';

/**
 * Scissors (live-wire, docs/models-in-the-loop.md): a click sets the first anchor; moving the mouse shows the path along
 * the image's edges from the last anchor to the cursor (the server's intelligent scissors); each click fixes that
 * segment and anchors there; a click on the first point (or Enter) closes the outline, which is filled into an
 * ordinary mask of the current label, editable with the brush and convertible with K. Backspace takes the last segment
 * back, Esc drops the outline.
 */
export const scissorsTool: Tool = {
  id: 'scissors', name: 'Scissors', key: 's', edits: true,
  title: 'Scissors: click along an object\'s outline, the path follows its edges; click the first point or press Enter to make it a mask',
  hint: 'Scissors: click along the outline (the path follows edges), click the first point or Enter to close, Backspace undoes a segment, Esc discards',
  help: 'scissors: click along an object\'s outline, the path between clicks follows the edges; click the first point or press Enter to add it as a mask of the current label',
  more: [['Backspace', 'scissors: take the last segment back'], ['Esc', 'scissors: drop the outline']],
  create(ed) {
    /** The fixed outline: pixel path points, and where each anchor's segment starts in it. */
    let path: number[] = [];
    let anchors: { x: number; y: number; at: number }[] = [];
    /** The live-wire to the cursor: only the latest answer for the current anchor is kept. */
    let live: { anchor: string; points: number[] } | null = null;
    let cursor: { x: number; y: number } | null = null;
    let hovering = false, hoverDue = false;
    /** Clicks and closing run one after another (each needs the path from the anchor the previous one set). */
    let chain: Promise<void> = Promise.resolve();
    let generation = 0; // Esc and closing start a new outline: work queued for the old one is dropped

    const info = () => ed.state.info!;
    const last = () => anchors[anchors.length - 1];
    const anchorKey = (a: { x: number; y: number }) => `${a.x},${a.y}`;

    /** The server's window around an anchor (ScissorsEndpoint): 512 px centred on it, moved inside the image. */
    function reach(a: { x: number; y: number }, t: { x: number; y: number }): { x: number; y: number } {
      const { width, height } = info(), side = 512;
      const w = Math.min(side, width), h = Math.min(side, height);
      const x0 = Math.min(Math.max(a.x - side / 2, 0), width - w), y0 = Math.min(Math.max(a.y - side / 2, 0), height - h);
      return { x: Math.min(Math.max(t.x, x0), x0 + w - 1), y: Math.min(Math.max(t.y, y0), y0 + h - 1) };
    }

    /** The path from the anchor to the target; a target past the anchor's window is reached in steps along the way. */
    async function trace(from: { x: number; y: number }, to: { x: number; y: number }): Promise<number[]> {
      const points: number[] = [];
      let a = from;
      for (;;) {
        const step = Math.hypot(to.x - a.x, to.y - a.y) > 240
          ? (() => { const k = 240 / Math.hypot(to.x - a.x, to.y - a.y); return { x: Math.round(a.x + (to.x - a.x) * k), y: Math.round(a.y + (to.y - a.y) * k) }; })()
          : reach(a, to);
        const answer = await api.scissors(ed.imageId, { anchor: a, targets: [step] });
        const p = answer.paths[0];
        points.push(...(points.length ? p.slice(2) : p));
        if (step.x === to.x && step.y === to.y) return points;
        a = step;
      }
    }

    /** Runs after the queued work, counted as "tracing…"; a failure toasts the server's detail and keeps the outline. */
    function queue(work: (gen: number) => Promise<void>): void {
      const gen = generation;
      chain = chain.then(async () => {
        if (gen !== generation) return;
        ed.store.update(s => ({ tracing: s.tracing + 1 }));
        try { await work(gen); } catch (err) { toast(`Scissors: ${(err as Error).message}`, true); }
        finally { ed.store.update(s => ({ tracing: s.tracing - 1 })); ed.redrawOverlay(); }
      });
    }

    function fix(target: { x: number; y: number }): void {
      queue(async gen => {
        const from = last();
        const points = await trace(from, target);
        if (gen !== generation) return;
        anchors.push({ ...target, at: path.length });
        path.push(...points.slice(2)); // the first point is the anchor, already on the path
        live = null;
        hover();
      });
    }

    function close(): void {
      queue(async gen => {
        if (anchors.length < 3) { toast('Scissors: click at least three points along the outline first', true); return; }
        const points = await trace(last(), anchors[0]);
        if (gen !== generation) return;
        const ring = [...path, ...points.slice(2, -2)].map(v => v + 0.5); // pixel centres
        reset();
        const label = ed.state.currentLabel;
        if (!label) { toast('The project has no labels: add one first', true); return; }
        const painter = new MaskPainter(info().width, info().height, '#ffffff');
        painter.fillRings([ring]);
        const rle = painter.toRle();
        if (!rle) { toast('Scissors: the outline encloses no pixel', true); return; }
        const id = crypto.randomUUID();
        ed.live.create(id, { labelId: label, kind: 'mask', geometry: rle });
        ed.select([id]);
        toast(`Mask of ${ed.labelName(label)} added (scissors): M paints on it, K makes it a polygon`);
      });
    }

    function reset(): void {
      generation++;
      path = []; anchors = []; live = null;
      ed.redrawOverlay();
    }

    /** Asks for the live-wire to the cursor: one request at a time, the latest cursor position when it answers. */
    function hover(): void {
      if (!anchors.length || !cursor) return;
      if (hovering) { hoverDue = true; return; }
      const a = last(), target = reach(a, cursor), key = anchorKey(a);
      hovering = true; hoverDue = false;
      api.scissors(ed.imageId, { anchor: { x: a.x, y: a.y }, targets: [target] }).then(answer => {
        if (anchors.length && anchorKey(last()) === key) { live = { anchor: key, points: answer.paths[0] }; ed.redrawOverlay(); }
      }, () => { /* a preview only: the click that fixes the segment reports what went wrong */ }).finally(() => {
        hovering = false;
        if (hoverDue) hover();
      });
    }

    const nearFirst = (sx: number, sy: number) => {
      if (anchors.length < 3) return false;
      const [fx, fy] = ed.view.toScreen(anchors[0].x + 0.5, anchors[0].y + 0.5);
      return Math.hypot(sx - fx, sy - fy) <= 8;
    };

    return {
      down(p) {
        if (!ed.state.info) return;
        const { width, height } = info();
        if (p.ix < 0 || p.iy < 0 || p.ix >= width || p.iy >= height) { toast('Scissors: click on the image', true); return; }
        if (!ed.state.currentLabel) { toast('The project has no labels: add one first', true); return; }
        if (nearFirst(p.x, p.y)) { close(); return; }
        const target = { x: Math.floor(p.ix), y: Math.floor(p.iy) };
        if (!anchors.length) {
          anchors = [{ ...target, at: 0 }];
          path = [target.x, target.y];
          toast('Scissors: click along the outline; click the first point or press Enter to close');
          ed.redrawOverlay();
          hover();
          return;
        }
        if (target.x === last().x && target.y === last().y) return; // the anchor itself: nothing to trace
        fix(target);
      },
      move(p) {
        cursor = { x: Math.floor(p.ix), y: Math.floor(p.iy) };
        hover();
        ed.redrawOverlay();
      },
      key(e) {
        if (!anchors.length) return false;
        if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey) { close(); return true; }
        if (e.key === 'Escape') { reset(); toast('Scissors outline discarded'); return true; }
        if (e.key !== 'Backspace') return false;
        if (ed.state.tracing > 0) {
          // A click still being traced is the last segment: it is dropped (its answer will be ignored).
          generation++;
          chain = Promise.resolve();
          toast('Scissors: the last click was taken back');
          return true;
        }
        if (anchors.length > 1) { path = path.slice(0, anchors.pop()!.at); live = null; hover(); }
        else reset();
        ed.redrawOverlay();
        return true;
      },
      cancel() { if (anchors.length) reset(); },
      paint(ctx) {
        if (!anchors.length) return;
        const v = ed.view, color = ed.state.labels.get(ed.state.currentLabel)?.color ?? '#4c8dff';
        const line = (points: number[], dash: number[], stroke: string) => {
          if (points.length < 4) return;
          ctx.beginPath();
          for (let i = 0; i + 1 < points.length; i += 2) {
            const [sx, sy] = v.toScreen(points[i] + 0.5, points[i + 1] + 0.5);
            if (i === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
          }
          ctx.setLineDash(dash); ctx.strokeStyle = stroke; ctx.stroke();
        };
        ctx.save();
        ctx.lineWidth = 2;
        line(path, [], color);
        if (live && live.anchor === anchorKey(last())) line(live.points, [5, 3], '#fff');
        ctx.setLineDash([]);
        anchors.forEach((a, i) => {
          const [sx, sy] = v.toScreen(a.x + 0.5, a.y + 0.5);
          ctx.beginPath(); ctx.arc(sx, sy, i === 0 ? 6 : 4, 0, Math.PI * 2);
          ctx.fillStyle = i === 0 ? '#fff' : color; ctx.strokeStyle = '#000'; ctx.lineWidth = 1;
          ctx.fill(); ctx.stroke();
        });
        ctx.restore();
      },
    };
  },
};
