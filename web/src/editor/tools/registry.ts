import { boxTool } from './box';
import { brushTool } from './brush';
import { commentTool } from './comment';
import { eraserTool } from './eraser';
import { polygonTool } from './polygon';
import { rulerTool } from './ruler';
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
  eraserTool,
  commentTool,
  rulerTool,
];
