import { html, nothing } from 'lit';
import { api, utc, type HistoryItem } from '../../api';
import { ago, backToNow, clock, showState, toggleHistory } from '../history';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/** Entries asked for at a time (the server allows up to 500). */
const pageSize = 50;

/**
 * The image's history (Y): every op, newest first — who, what, when, #seq — read from the server's op log, older ones
 * on scroll or "Older", new ones as they arrive live. Clicking an entry shows the image as it was right after it
 * (history.ts); the entry on show is marked. Each request says it is loading, and a failure says what to do.
 */
export class HistoryPanel extends EditorPanel {
  private items: HistoryItem[] = [];
  /** The ?before= of the next older page; null: the first op is listed; undefined: nothing read yet. */
  private nextBefore: number | null | undefined = undefined;
  private loading = false;
  private failed = '';
  /** The entry whose state is being fetched, and why the last one could not be. */
  private opening: number | null = null;
  private openFailed = '';
  private refreshing = false;

  protected watch(s: EditorState) { return [s.historyOpen, s.viewing, s.shapes, s.info]; }

  /** Renders again now and then while shown, so "5 min ago" stays true. */
  private timer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.classList.add('history-panel');
    this.timer = window.setInterval(() => { if (this.ed.state.historyOpen) this.requestUpdate(); }, 30_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this.timer);
  }

  protected override willUpdate(): void {
    if (!this.ed.state.historyOpen) return;
    const seq = this.ed.live.seq;
    if (this.nextBefore === undefined) { if (!this.loading && !this.failed) this.loadOlder(); }
    else if (seq > this.newest() && seq > this.askedFor && !this.refreshing) { this.askedFor = seq; this.refresh(); } // ops arrived live since the list was read
  }

  /** The live seq the last refresh was asked for: one try per new op, so a failing request does not repeat itself. */
  private askedFor = 0;

  private wasOpen = false;

  protected override updated(): void {
    const open = this.ed.state.historyOpen;
    if (open && !this.wasOpen) this.scrollIntoView({ block: 'nearest' });
    this.wasOpen = open;
  }

  private newest(): number { return this.items[0]?.seq ?? 0; }

  /** The first page, or the next older one. */
  private async loadOlder(): Promise<void> {
    if (this.loading || this.nextBefore === null) return;
    this.loading = true;
    this.failed = '';
    this.requestUpdate();
    try {
      const page = await api.history(this.ed.imageId, this.nextBefore, pageSize);
      const known = new Set(this.items.map(i => i.seq));
      this.items = [...this.items, ...page.items.filter(i => !known.has(i.seq))];
      this.nextBefore = page.nextBefore ?? null;
    } catch (err) { this.failed = (err as Error).message; }
    finally { this.loading = false; this.requestUpdate(); }
  }

  /** New ops on top: the latest page merged in (when more arrived than a page holds, the list starts again from it). */
  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const page = await api.history(this.ed.imageId, null, pageSize);
      const newest = this.newest(), fresh = page.items.filter(i => i.seq > newest);
      if (fresh.length === page.items.length && page.nextBefore && page.nextBefore > newest + 1) { this.items = page.items; this.nextBefore = page.nextBefore; }
      else this.items = [...fresh, ...this.items];
    } catch { /* the next live op tries again; the list stays as it was */ }
    finally {
      this.refreshing = false;
      this.requestUpdate();
    }
  }

  private async open(item: HistoryItem): Promise<void> {
    this.opening = item.seq;
    this.openFailed = '';
    this.requestUpdate();
    try {
      const state = await api.historyState(this.ed.imageId, item.seq);
      if (this.opening === item.seq && this.ed.state.historyOpen) showState(this.ed, state); // a later click wins; a closed panel shows nothing
    } catch (err) {
      if (this.opening === item.seq) this.openFailed = `Could not show the state after #${item.seq}: ${(err as Error).message}. Click it again to retry.`;
    } finally {
      if (this.opening === item.seq) this.opening = null;
      this.requestUpdate();
    }
  }

  private readonly scrolled = (e: Event) => {
    const list = e.currentTarget as HTMLElement;
    if (list.scrollTop + list.clientHeight >= list.scrollHeight - 40) this.loadOlder();
  };

  protected override render() {
    const ed = this.ed, s = ed.state;
    if (!s.historyOpen) return nothing;
    const viewing = s.viewing?.seq;
    return html`<h4>History <span class="muted">${this.items.length ? `${this.items.length} of ${this.items[0].seq}` : ''}</span>
        <button type="button" class="link" title="Hide the history (Y)" @click=${() => toggleHistory(ed)}>Hide <kbd>Y</kbd></button></h4>
      ${viewing ? html`<p class="notice">Showing the state after #${viewing}. <button type="button" class="link" @click=${() => backToNow(ed)}>Back to now</button></p>` : nothing}
      ${this.openFailed ? html`<p class="error" role="alert">${this.openFailed}</p>` : nothing}
      <ol class="history-list" aria-label="History" @scroll=${this.scrolled}>
        ${this.items.map(i => html`<li>
          <button type="button" class="history-entry ${viewing === i.seq ? 'current' : ''}" data-seq=${i.seq} aria-current=${viewing === i.seq ? 'true' : 'false'}
            title="Show the image as it was right after #${i.seq}" @click=${() => this.open(i)}>
            <span class="who"><strong>${i.author}</strong> <span class="muted">#${i.seq}</span></span>
            <span class="what">${i.what}</span>
            <time datetime=${utc(i.at).toISOString()} title=${utc(i.at).toLocaleString()}>${ago(i.at)} · ${clock(i.at)}${this.opening === i.seq ? ' · loading…' : ''}</time>
          </button></li>`)}
      </ol>
      ${this.failed ? html`<p class="error" role="alert">History not read: ${this.failed}.
          <button type="button" class="link" @click=${() => this.loadOlder()}>Try again</button></p>`
        : this.loading ? html`<p class="muted" role="status">Loading…</p>`
        : this.nextBefore ? html`<button type="button" class="older" @click=${() => this.loadOlder()}>Older</button>`
        : this.items.length === 0 ? html`<p class="muted">No changes yet: the first shape drawn starts the history.</p>`
        : html`<p class="muted">That is the first change.</p>`}`;
  }
}
customElements.define('vl-history-panel', HistoryPanel);

/** On the stage while a past state is on show: whose op and when, and the way back (Esc). */
export class HistoryBanner extends EditorPanel {
  protected watch(s: EditorState) { return [s.viewing]; }

  protected override render() {
    const v = this.ed.state.viewing;
    if (!v) return nothing;
    // The stage's own pointer handler would take a press on the button for a click on the image.
    return html`<div class="banner history-banner" role="status" data-seq=${v.seq} @pointerdown=${(e: Event) => e.stopPropagation()}>
      Viewing the state after #${v.seq} by ${v.author}, ${clock(v.at)} (read only) —
      <button type="button" class="primary" @click=${() => backToNow(this.ed)}>Back to now <kbd>Esc</kbd></button></div>`;
  }
}
customElements.define('vl-history-banner', HistoryBanner);
