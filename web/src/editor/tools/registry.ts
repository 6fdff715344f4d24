import { boxTool } from './box';
import { boxMaskTool } from './box-mask';
import { brushTool } from './brush';
import { clickMaskTool } from './click-mask';
import { commentTool } from './comment';
import { eraserTool } from './eraser';
import { polygonTool } from './polygon';
import { rulerTool } from './ruler';
import { scissorsTool } from './scissors';
import { selectTool } from './select';
import type { Tool } from './tool';

/**
 * Every tool, in toolbar order. The toolbar, the shortcuts and the ? overlay are made from this list: a new tool is
 * one file in this folder and one line here. (The first is the default.)
 */
export const tools: readonly Tool[] = [
  selectTool,
  boxTool,
  polygonTool,
  brushTool,
  boxMaskTool,
  clickMaskTool,
  scissorsTool,
  eraserTool,
  commentTool,
  rulerTool,
];
