import { toast } from '../../toast';
import { boxDrag } from './drag-box';
import type { Tool } from './tool';

/** Drag to draw a box with the current label. */
export const boxTool: Tool = {
  id: 'box', name: 'Box', key: 'b', edits: true, hint: 'Box tool: drag to draw',
  help: 'box tool: drag to draw a box with the current label',
  create(ed) {
    const drag = boxDrag(ed);
    return {
      down: p => drag.down(p),
      move: p => drag.move(p),
      up() {
        const box = drag.finish();
        if (!box) return;
        const label = ed.state.currentLabel;
        if (!label) { toast('The project has no labels: add one first', true); return; }
        const id = crypto.randomUUID();
        ed.live.create(id, { labelId: label, kind: 'box', geometry: box });
        ed.select([id]);
      },
      cancel: () => drag.cancel(),
      paint: ctx => drag.paint(ctx),
    };
  },
};
