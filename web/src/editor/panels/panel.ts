import { LitElement } from 'lit';
import type { Editor } from '../editor';
import type { EditorState } from '../state';

/**
 * A panel of the editor: a Lit element that renders again when the part of the store it shows changes (its
 * `watch` selector, a tuple). Rendered into light DOM, not a shadow root: the app's stylesheet applies, and tests
 * and assistive technology see one document.
 */
export abstract class EditorPanel extends LitElement {
  ed!: Editor;
  private off: (() => void) | undefined;

  protected abstract watch(s: Readonly<EditorState>): unknown[];

  protected override createRenderRoot(): HTMLElement { return this; }

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.ed.store.subscribe(s => this.watch(s), () => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }
}

/** Makes a panel for an editor (the element is defined once, by its module). */
export function panel<T extends EditorPanel>(tag: string, ed: Editor): T {
  const el = document.createElement(tag) as T;
  el.ed = ed;
  return el;
}
