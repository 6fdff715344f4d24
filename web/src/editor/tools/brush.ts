import { maskStroke } from './mask-stroke';
import type { Tool } from './tool';

export const brushTool: Tool = {
  id: 'brush', name: 'Brush', key: 'm', edits: true, hint: 'Mask brush: paint on the selected mask or a new one ([ and ] size)',
  help: 'mask brush: paint on the selected mask, or a new one; [ and ] change the size',
  create: ed => maskStroke(ed, false),
};
