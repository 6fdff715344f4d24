import { html, render } from 'lit';
import { api, ImageInfo } from '../api';
import { filterQuery, type ImageFilter } from '../image-filters';

const pageSize = 200;
const cell = 170; // px: thumbnail 160 + gap
const rowHeight = 190;

/**
 * A project's images as a virtualised thumbnail grid: only the rows in view (and one screen above and below) are in
 * the DOM, and pages of 200 are fetched as they scroll into view, so 100,000 images cost what one screen costs.
 * Narrowed by the list's filters (image-filters.ts); the host says `data-total` and `data-loaded` (the filter's
 * first page has arrived) for tests.
 */
export class ImageGrid {
  private readonly pages = new Map<number, ImageInfo[] | 'loading'>();
  private total = 0;
  private readonly host: HTMLDivElement;
  private readonly onScroll = () => this.draw();
  private readonly onResize = () => this.draw();

  constructor(root: HTMLElement, private readonly projectId: string, private filter: ImageFilter, private readonly changed: (total: number) => void) {
    this.host = document.createElement('div');
    this.host.className = 'vgrid';
    root.replaceChildren(this.host);
    window.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onResize);
  }

  dispose(): void {
    window.removeEventListener('scroll', this.onScroll);
    window.removeEventListener('resize', this.onResize);
  }

  async reload(filter = this.filter): Promise<void> {
    this.filter = filter;
    this.host.dataset.loaded = 'false';
    this.pages.clear();
    this.generation++;
    try { await this.fetch(0); }
    catch (err) {
      // A filter the server refused: an empty grid, and the caller says why.
      this.total = 0;
      this.changed(0);
      this.draw();
      throw err;
    }
  }

  /** Bumped by each reload: a page fetched for an earlier filter arrives late and is dropped, never shown. */
  private generation = 0;

  private async fetch(page: number): Promise<void> {
    if (this.pages.has(page)) return;
    this.pages.set(page, 'loading');
    const generation = this.generation;
    let result;
    try { result = await api.images(this.projectId, page * pageSize, pageSize, this.filter); }
    catch (err) { if (generation === this.generation) this.pages.delete(page); throw err; }
    if (generation !== this.generation) return; // the filter changed while this page was on its way
    this.pages.set(page, result.items);
    if (result.total !== this.total || page === 0) { this.total = result.total; this.changed(this.total); }
    this.host.dataset.total = String(this.total);
    if (page === 0) this.host.dataset.loaded = 'true';
    this.draw();
  }

  private draw(): void {
    const columns = Math.max(1, Math.floor(this.host.clientWidth / cell));
    const rows = Math.ceil(this.total / columns);
    const top = this.host.getBoundingClientRect().top + window.scrollY;
    const first = Math.max(0, Math.floor((window.scrollY - top) / rowHeight) - 3);
    const last = Math.min(rows, Math.ceil((window.scrollY - top + window.innerHeight) / rowHeight) + 3);
    const cells = [];
    for (let row = first; row < last; row++)
      for (let col = 0; col < columns; col++) {
        const index = row * columns + col;
        if (index >= this.total) break;
        const page = this.pages.get(Math.floor(index / pageSize));
        if (page === undefined) this.fetch(Math.floor(index / pageSize)).catch(() => {}); // shown again when it scrolls back
        const image = Array.isArray(page) ? page[index % pageSize] : undefined;
        // The filter travels with the link: the editor's ← and → then stay within it.
        const query = filterQuery(this.filter).toString();
        const href = image ? `/images/${image.id}${query ? `?${query}` : ''}` : '#';
        cells.push(html`<a class="vcell" data-image=${image?.id ?? ''} style="top:${row * rowHeight}px;left:${col * cell}px" href=${href} title=${image ? `${image.fileName} · ${image.status}` : ''}>
          ${image ? html`<img loading="lazy" src="/api/images/${image.id}/thumbnail" alt=${image.fileName} /><span class="status">${image.status}</span><span class="name">${image.fileName}</span>` : html`<span class="name muted">…</span>`}</a>`);
      }
    this.host.style.height = `${rows * rowHeight}px`;
    render(html`${cells}`, this.host);
  }
}
