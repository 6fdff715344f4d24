import { maskStroke } from './mask-stroke';
import type { Tool } from './tool';

export const eraserTool: Tool = {
  id: 'eraser', name: 'Eraser', key: 'e', edits: true, hint: 'Eraser: erase from the selected mask',
  help: 'mask eraser: erase from the selected mask; [ and ] change the size',
  create: ed => maskStroke(ed, true),
};
