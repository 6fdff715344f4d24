import { html, LitElement, type PropertyValues } from 'lit';
import type { DraftExample } from './guidelines-api';

/** Originals read for crops, kept for a few images (a card's examples often share one; the editor's image is in the HTTP cache). */
const originals = new Map<string, Promise<HTMLImageElement>>();
const keep = 24;

function original(imageId: string): Promise<HTMLImageElement> {
  let p = originals.get(imageId);
  if (p) { originals.delete(imageId); originals.set(imageId, p); return p; } // most recently used last
  p = new Promise<HTMLImageElement>((resolve, reject) => {
    const img = new Image();
    img.decoding = 'async';
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the image could not be loaded'));
    img.src = `/api/images/${imageId}/original`;
  });
  p.catch(() => originals.delete(imageId));
  originals.set(imageId, p);
  while (originals.size > keep) originals.delete(originals.keys().next().value!);
  return p;
}

/**
 * One example shape of a label card, cropped from its image's original on a canvas: its bounds (x, y, width, height)
 * with a margin of context around them, the shape's box outlined, green for a positive example and red for a
 * negative one. `data-drawn` says when it is on the canvas (tests wait on it).
 */
export class ExampleCrop extends LitElement {
  static override properties = { example: { attribute: false }, positive: { type: Boolean }, size: { type: Number } };
  // Declared, not initialised as class fields: a field would shadow the reactive accessor Lit defines.
  declare example: DraftExample | undefined;
  declare positive: boolean;
  declare size: number;
  private failed = '';

  constructor() {
    super();
    this.positive = true;
    this.size = 96;
  }

  protected override createRenderRoot(): HTMLElement { return this; }

  protected override render() {
    const e = this.example;
    const what = `${this.positive ? 'Positive' : 'Negative'} example ${e?.annotationId.slice(0, 8) ?? ''}`;
    if (!e?.imageId || !e.bounds) return html`<span class="crop-missing" style="width:${this.size}px;height:${this.size}px" title="${what}: cropped once published (only its id is known here)">${e?.annotationId.slice(0, 8)}</span>`;
    if (this.failed) return html`<span class="crop-missing" style="width:${this.size}px;height:${this.size}px" title="${what}: ${this.failed}">?</span>`;
    return html`<a href="/images/${e.imageId}" title="${what}: open its image"><canvas role="img" aria-label=${what}></canvas></a>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('example') || changed.has('size')) this.draw();
  }

  private async draw(): Promise<void> {
    const e = this.example, canvas = this.querySelector('canvas');
    if (!e?.imageId || !e.bounds || !canvas) return;
    this.removeAttribute('data-drawn');
    let img: HTMLImageElement;
    try { img = await original(e.imageId); }
    catch (err) { this.failed = (err as Error).message; this.requestUpdate(); return; }
    if (this.example !== e) return; // changed meanwhile
    const [x, y, w, h] = e.bounds;
    // A margin of a quarter of the shape (at least 8 px) around it, kept inside the image.
    const margin = Math.max(8, 0.25 * Math.max(w, h));
    const sx = Math.max(0, x - margin), sy = Math.max(0, y - margin);
    const sw = Math.min(img.naturalWidth, x + w + margin) - sx, sh = Math.min(img.naturalHeight, y + h + margin) - sy;
    if (sw <= 0 || sh <= 0) { this.failed = 'its bounds are outside the image'; this.requestUpdate(); return; }
    const scale = this.size / Math.max(sw, sh), ratio = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(sw * scale)), ch = Math.max(1, Math.round(sh * scale));
    canvas.width = Math.round(cw * ratio);
    canvas.height = Math.round(ch * ratio);
    canvas.style.width = `${cw}px`;
    canvas.style.height = `${ch}px`;
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(img, sx, sy, sw, sh, 0, 0, cw, ch);
    ctx.strokeStyle = this.positive ? '#3ccf7a' : '#ff5a5f';
    ctx.lineWidth = 2;
    ctx.strokeRect((x - sx) * scale, (y - sy) * scale, w * scale, h * scale);
    this.dataset.drawn = 'true';
  }
}
customElements.define('vl-example-crop', ExampleCrop);
