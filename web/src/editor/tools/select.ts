import { toast } from '../../toast';
import { deleteVertex, dragHandle, handleAt, handles, insertVertex, move } from '../editing';
import { hitTest } from '../shapes';
import type { Pointer, Tool } from './tool';

/** Select, move and reshape; drag on empty space pans, Shift+drag selects by rubber band. */
export const selectTool: Tool = {
  id: 'select', name: 'Select', key: 'v', edits: false, cursor: 'default', hint: 'Select tool',
  help: 'select tool: click a shape to select it (Shift adds), drag it to move it, drag its handles to reshape it; drag on empty space to pan',
  more: [
    ['Double-click an edge', 'insert a polygon vertex (select tool)'],
    ['Alt+click a vertex', 'delete a polygon vertex'],
    ['Shift+drag on empty space', 'select every shape inside the rectangle (select tool)'],
  ],
  create(ed) {
    let drag: { kind: 'pan' | 'band'; x0: number; y0: number; x: number; y: number } | null = null;
    /** A shape being moved (handle null) or reshaped: its geometry as dragged so far is the store's preview. */
    let edit: { id: string; handle: number | null; x0: number; y0: number; moved: boolean } | null = null;
    const near = () => 6 / ed.view.scale;

    const down = (p: Pointer) => {
      const selected = ed.single();
      const target = selected && ed.pickable(selected) ? selected : undefined;
      if (target && !p.shift) {
        const h = handleAt(target, p.ix, p.iy, near());
        if (h && p.alt) {
          const g = deleteVertex(target, h.index);
          if (g) { ed.live.update(target.id, { geometry: g }); toast('Vertex deleted'); } else toast('A polygon keeps at least 3 points', true);
          return;
        }
        if (h) { if (ed.canEdit) edit = { id: target.id, handle: h.index, x0: p.ix, y0: p.iy, moved: false }; return; }
      }
      // On the selected polygon's outline counts as on the polygon (a double-click there inserts a vertex).
      const onOutline = target && insertVertex(target, p.ix, p.iy, near()) ? target : undefined;
      const hit = onOutline ?? hitTest(ed.shapes().values(), p.ix, p.iy, s => ed.pickable(s));
      const ids = new Set(ed.state.selected);
      if (hit && p.shift) { if (ids.has(hit.id)) ids.delete(hit.id); else ids.add(hit.id); ed.select(ids); }
      else if (hit) {
        ed.select([hit.id]);
        if (ed.canEdit) edit = { id: hit.id, handle: null, x0: p.ix, y0: p.iy, moved: false }; // dragging it moves it
      } else if (p.shift) drag = { kind: 'band', x0: p.x, y0: p.y, x: p.x, y: p.y };
      else { ed.select([]); drag = { kind: 'pan', x0: p.x, y0: p.y, x: p.x, y: p.y }; }
    };

    const moveTo = (p: Pointer) => {
      const info = ed.state.info;
      if (edit && info) {
        const s = ed.shapes().get(edit.id);
        if (!s) { edit = null; return; }
        if (!edit.moved && Math.hypot(p.ix - edit.x0, p.iy - edit.y0) * ed.view.scale <= 2) return;
        edit.moved = true;
        const geometry = edit.handle !== null ? dragHandle(s, edit.handle, p.ix, p.iy, info.width, info.height)
          : move(s, p.ix - edit.x0, p.iy - edit.y0, info.width, info.height);
        ed.store.set({ preview: { id: s.id, geometry } });
        ed.live.sendPresence({ cursor: { x: p.ix, y: p.iy }, selection: [...ed.state.selected], tool: 'select', editing: s.id });
        return;
      }
      if (!drag) return;
      if (drag.kind === 'pan') { ed.view.pan(p.x - drag.x, p.y - drag.y); ed.viewChanged(); }
      drag.x = p.x; drag.y = p.y;
      ed.redrawOverlay();
    };

    const up = () => {
      const finished = edit, preview = ed.state.preview;
      edit = null;
      if (finished?.moved && preview?.id === finished.id && preview.geometry) {
        ed.live.update(finished.id, { geometry: preview.geometry }); // one op per drag
        ed.live.sendPresence({ selection: [...ed.state.selected], tool: 'select', editing: null });
      }
      if (preview) ed.store.set({ preview: null });
      const band = drag?.kind === 'band' ? drag : null;
      drag = null;
      ed.redrawOverlay();
      if (!band) return;
      const [ax, ay] = ed.view.toImage(band.x0, band.y0), [bx, by] = ed.view.toImage(band.x, band.y);
      const [x0, x1, y0, y1] = [Math.min(ax, bx), Math.max(ax, bx), Math.min(ay, by), Math.max(ay, by)];
      const ids = new Set(ed.state.selected);
      for (const s of ed.displayed().values())
        if (ed.pickable(s) && s.bounds[0] >= x0 && s.bounds[2] <= x1 && s.bounds[1] >= y0 && s.bounds[3] <= y1) ids.add(s.id);
      ed.select(ids);
      toast(`${ids.size} shape(s) selected`);
    };

    return {
      down, move: moveTo, up,
      dblclick(p) {
        const s = ed.single();
        const g = s && ed.pickable(s) && insertVertex(s, p.ix, p.iy, near());
        if (s && g) { ed.live.update(s.id, { geometry: g }); toast('Vertex inserted'); }
      },
      cancel() { drag = null; edit = null; if (ed.state.preview) ed.store.set({ preview: null }); },
      paint(ctx) {
        const s = ed.single() && ed.displayed().get([...ed.state.selected][0]);
        if (s && ed.pickable(s)) {
          ctx.fillStyle = '#fff';
          ctx.strokeStyle = '#000';
          for (const h of handles(s)) {
            const [x, y] = ed.view.toScreen(h.x, h.y);
            ctx.fillRect(x - 4, y - 4, 8, 8);
            ctx.strokeRect(x - 4, y - 4, 8, 8);
          }
        }
        if (drag?.kind === 'band') {
          ctx.strokeStyle = '#9ad';
          ctx.setLineDash([4, 3]);
          ctx.strokeRect(drag.x0, drag.y0, drag.x - drag.x0, drag.y - drag.y0);
          ctx.setLineDash([]);
        }
      },
    };
  },
};
