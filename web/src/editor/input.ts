import type { Editor } from './editor';
import { shortcuts } from './shortcuts';
import { tools } from './tools/registry';
import type { Pointer } from './tools/tool';

/**
 * Mouse and keyboard to the editor: the wheel zooms, Space+drag and middle-drag pan, other pointer events go to the
 * active tool, keys to the active tool first (Enter closing a polygon), then the tools' letters, then shortcuts.ts.
 * Returns the function that removes the listeners.
 */
export function listen(ed: Editor): () => void {
  const stage = ed.stage;
  const cleanup: (() => void)[] = [];
  const on = <K extends keyof HTMLElementEventMap>(target: HTMLElement | Window, type: K, handler: (e: HTMLElementEventMap[K]) => void, options?: AddEventListenerOptions) => {
    target.addEventListener(type, handler as EventListener, options);
    cleanup.push(() => target.removeEventListener(type, handler as EventListener, options));
  };
  let spaceDown = false;
  let pan: { x: number; y: number } | null = null;
  /** The last press: a dblclick's own coordinates are whole CSS pixels in Chromium, its pointerdown's are exact. */
  let lastDown: Pointer | null = null;
  const pointer = (e: MouseEvent): Pointer => {
    const r = stage.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const [ix, iy] = ed.view.toImage(x, y);
    return { x, y, ix, iy, shift: e.shiftKey, alt: e.altKey, buttons: e.buttons };
  };

  on(stage, 'wheel', e => {
    e.preventDefault();
    const p = pointer(e);
    ed.view.zoomAt(p.x, p.y, Math.pow(1.2, -Math.sign(e.deltaY)));
    ed.viewChanged();
  }, { passive: false });
  on(stage, 'pointerdown', e => {
    stage.focus();
    stage.setPointerCapture(e.pointerId);
    const p = lastDown = pointer(e);
    if (e.button === 1 || (e.button === 0 && spaceDown)) { pan = { x: p.x, y: p.y }; e.preventDefault(); return; }
    if (e.button === 0) ed.session.down?.(p);
  });
  on(stage, 'pointermove', e => {
    const p = pointer(e);
    ed.live.sendPresence({ cursor: { x: p.ix, y: p.iy }, selection: [...ed.state.selected], tool: ed.state.tool });
    if (pan) { ed.view.pan(p.x - pan.x, p.y - pan.y); pan = { x: p.x, y: p.y }; ed.viewChanged(); return; }
    ed.session.move?.(p);
  });
  on(stage, 'pointerup', e => {
    if (stage.hasPointerCapture(e.pointerId)) stage.releasePointerCapture(e.pointerId);
    if (pan) { pan = null; return; }
    ed.session.up?.(pointer(e));
  });
  on(stage, 'auxclick', e => e.preventDefault());
  on(stage, 'dblclick', e => {
    const p = pointer(e);
    ed.session.dblclick?.(lastDown && Math.hypot(lastDown.x - p.x, lastDown.y - p.y) < 2 ? { ...lastDown, buttons: 0 } : p);
  });
  on(window, 'keyup', e => { if (e.key === ' ') spaceDown = false; });
  on(window, 'keydown', e => {
    // Typing in a field, or anything in a dialog (the reject dialog), is not an editor shortcut.
    if ((e.target as HTMLElement).closest('input, select, textarea, dialog')) return;
    if (e.key === ' ') { spaceDown = true; e.preventDefault(); return; }
    const ctrl = e.ctrlKey || e.metaKey || e.altKey;
    if (!ctrl && ed.session.key?.(e)) { e.preventDefault(); return; }
    const tool = !ctrl && !e.shiftKey ? tools.find(t => t.key === e.key.toLowerCase()) : undefined;
    if (tool) { ed.setTool(tool.id); e.preventDefault(); return; }
    const shortcut = shortcuts.find(s => (!ctrl || s.ctrl) && s.match(e));
    if (!shortcut) return;
    shortcut.run(ed, e);
    e.preventDefault();
  });
  return () => { for (const c of cleanup) c(); };
}
