import type { Editor } from '../editor';

/** A pointer event on the stage: stage CSS pixels (x, y) and image pixels (ix, iy). */
export interface Pointer { x: number; y: number; ix: number; iy: number; shift: boolean; alt: boolean; buttons: number }

/** One editor's handlers for a tool; drag and draft state live in the closure that made them. */
export interface ToolSession {
  down?(p: Pointer): void;
  move?(p: Pointer): void;
  up?(p: Pointer): void;
  dblclick?(p: Pointer): void;
  /** Keys the tool takes while it is active (Enter closing a polygon); true when it handled the key. */
  key?(e: KeyboardEvent): boolean;
  /** Paints the tool's transient state (a box being dragged, a draft polygon) on the overlay, in stage CSS pixels. */
  paint?(ctx: CanvasRenderingContext2D): void;
  /** The tool is left, or Esc: drop what is half done. */
  cancel?(): void;
}

/**
 * A tool: its toolbar button, its shortcut and its help line come from here (tools/registry.ts lists them), so a
 * new tool is one file plus one line in the registry.
 */
export interface Tool {
  readonly id: string;
  /** The toolbar button's text. */
  readonly name: string;
  /** The toolbar button's tooltip, where the name alone does not say what the tool does (the shortcut is added). */
  readonly title?: string;
  /** The shortcut: one lower-case letter. */
  readonly key: string;
  /** The ? overlay's line for the shortcut. */
  readonly help: string;
  /** What the toast says when the tool is picked. */
  readonly hint: string;
  /** Changes annotations: offered to annotators and above only (viewers get a read-only message), and disabled while
   *  the image's stage keeps edits out (submitted for annotators, approved for everyone). */
  readonly edits: boolean;
  /** Still offered while the stage keeps edits out (it changes no annotation: comments). */
  readonly keepsWhenLocked?: boolean;
  /** Extra ? lines (gestures the tool understands). */
  readonly more?: readonly (readonly [string, string])[];
  readonly cursor?: string;
  create(ed: Editor): ToolSession;
}

export const round = (v: number) => Math.round(v * 100) / 100;
export const clampTo = (v: number, max: number) => Math.min(max, Math.max(0, v));
