import { html, LitElement } from 'lit';
import { api, Notification, utc } from './api';
import { liveHub, onNotification } from './live-events';
import { navigate } from './navigation';
import { toast } from './toast';

/**
 * The signed-in user's notifications, kept for the whole tab (pages come and go, the bell on each shows the same):
 * loaded once from GET /api/notifications, then kept up to date by the live `Notification` events on /hubs/live, and
 * loaded again after a reconnection (what arrived meanwhile).
 */
class NotificationStore {
  items: Notification[] = [];
  unread = 0;
  loaded = false;
  private readonly listeners = new Set<() => void>();
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    onNotification(n => {
      if (this.items.some(i => i.id === n.id)) return;
      this.items = [n, ...this.items].slice(0, 200);
      if (!n.readAt) this.unread++;
      this.changed();
    });
    liveHub.onReconnected(() => this.load());
    this.load();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  async load(): Promise<void> {
    try { this.apply(await api.notifications()); }
    catch { /* the bell stays as it was; the next reconnection or page tries again */ }
  }

  async markRead(ids: string[] | 'all'): Promise<void> {
    this.apply(await api.markRead(ids === 'all' ? { all: true } : { ids }));
  }

  private apply(list: { items: Notification[]; unread: number }): void {
    this.items = list.items;
    this.unread = list.unread;
    this.loaded = true;
    this.changed();
  }

  private changed(): void { for (const fn of [...this.listeners]) fn(); }
}

export const notifications = new NotificationStore();

/** A bell drawn in SVG (an emoji needs a font the machine may not have). */
const bellIcon = html`<svg class="bell-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"
  stroke-linecap="round" stroke-linejoin="round"><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" /><path d="M13.7 21a2 2 0 0 1-3.4 0" /></svg>`;

const kindLabel: Record<Notification['kind'], string> = { rejected: 'Rejected', assigned: 'Assigned', commented: 'Comment', 'review-queue': 'Review queue' };

/**
 * `<vl-bell>`: the bell in the header of every signed-in page (and the editor's bar). Its badge counts the unread
 * notifications, live; a click opens the list (newest first), where a click on one marks it read and goes to its
 * image (or to the project's work page when it is about the project).
 */
export class Bell extends LitElement {
  private open = false;
  private off: (() => void) | undefined;
  private position = { top: 40, right: 8 };

  protected override createRenderRoot(): HTMLElement { return this; }

  override connectedCallback(): void {
    super.connectedCallback();
    notifications.start();
    this.off = notifications.subscribe(() => this.requestUpdate());
    document.addEventListener('pointerdown', this.outside, true);
    document.addEventListener('keydown', this.escape, true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    document.removeEventListener('pointerdown', this.outside, true);
    document.removeEventListener('keydown', this.escape, true);
  }

  private readonly outside = (e: Event) => { if (this.open && !this.contains(e.target as Node)) this.toggle(false); };
  private readonly escape = (e: KeyboardEvent) => { if (this.open && e.key === 'Escape') { e.stopPropagation(); this.toggle(false); } };

  private toggle(open = !this.open): void {
    if (open) {
      // Fixed below the bell, kept inside the window whether the bell is at the right of a header or mid-toolbar.
      const r = this.getBoundingClientRect();
      this.position = { top: Math.round(r.bottom + 4), right: Math.max(8, Math.round(window.innerWidth - r.right)) };
      if (!notifications.loaded) notifications.load();
    }
    this.open = open;
    this.requestUpdate();
  }

  private async go(n: Notification): Promise<void> {
    this.toggle(false);
    try { if (!n.readAt) await notifications.markRead([n.id]); }
    catch (err) { toast(`Not marked read: ${(err as Error).message}`, true); }
    navigate(n.imageId ? `/images/${n.imageId}` : `/projects/${n.projectId}/work`);
  }

  private async readAll(): Promise<void> {
    try { await notifications.markRead('all'); toast('All notifications marked read'); }
    catch (err) { toast(`Not marked read: ${(err as Error).message}`, true); }
  }

  protected override render() {
    const unread = notifications.unread, items = notifications.items;
    return html`<button type="button" class="bell-button" aria-haspopup="dialog" aria-expanded=${String(this.open)}
        aria-label="Notifications${unread ? `, ${unread} unread` : ''}" title="Notifications" @click=${() => this.toggle()}>${bellIcon}${unread
        ? html`<span class="badge" data-unread=${unread}>${unread > 99 ? '99+' : unread}</span>` : ''}</button>
      ${this.open ? html`<div class="bell-list" role="dialog" aria-label="Notifications list" style="top:${this.position.top}px;right:${this.position.right}px">
        <div class="bell-head"><strong>Notifications</strong>
          <button type="button" ?disabled=${unread === 0} @click=${() => this.readAll()}>Mark all read</button></div>
        ${items.length === 0 ? html`<p class="muted">${notifications.loaded ? 'Nothing yet: rejections, assignments and comments on your work show here.' : 'Loading…'}</p>` : ''}
        <ul>${items.map(n => html`<li><button type="button" class="bell-item ${n.readAt ? 'read' : 'unread'}" @click=${() => this.go(n)}
            title=${n.imageId ? 'Open the image' : 'Open the project\'s work'}>
          <span class="chip kind-${n.kind}">${kindLabel[n.kind] ?? n.kind}</span> ${n.text}
          <span class="muted when">${ago(n.createdAt)}</span></button></li>`)}</ul>
      </div>` : ''}`;
  }
}
customElements.define('vl-bell', Bell);

/** "just now", "5 min ago", "3 h ago", or the date. */
function ago(time: string): string {
  const s = (Date.now() - utc(time).getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return utc(time).toLocaleDateString();
}
