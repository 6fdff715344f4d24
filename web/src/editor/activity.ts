import type { Editor } from './editor';

/** How often, at most, activity is reported while it lasts (the trailing report marks where it ended). */
const EVERY_MS = 5000;

/**
 * Reports the editor's activity for active time (docs/analytics.md): pointer and key activity on the page, at most
 * once every EVERY_MS while it lasts plus a trailing report when it stops, and `hidden` when the page is hidden. The
 * server measures the time itself, from when these arrive. Viewers do not report (their time is not work).
 */
export class ActivityReporter {
  private last = 0;
  private trailing: number | undefined;
  private readonly onActivity = () => this.activity();
  private readonly onVisibility = () => this.report(document.visibilityState === 'hidden');

  constructor(private readonly ed: Editor) {
    for (const type of ['pointermove', 'pointerdown', 'keydown', 'wheel']) window.addEventListener(type, this.onActivity, { passive: true, capture: true });
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  private activity(): void {
    if (document.visibilityState === 'hidden') return;
    const now = Date.now();
    if (now - this.last >= EVERY_MS) { this.report(false); return; }
    if (this.trailing === undefined) this.trailing = window.setTimeout(() => { this.trailing = undefined; this.report(false); }, this.last + EVERY_MS - now);
  }

  private report(hidden: boolean): void {
    if (!this.ed.mayEdit) return;
    this.last = Date.now();
    // Best effort: a lost report loses a few seconds of active time, never the work.
    this.ed.live.reportActivity(hidden).catch(() => undefined);
  }

  dispose(): void {
    for (const type of ['pointermove', 'pointerdown', 'keydown', 'wheel']) window.removeEventListener(type, this.onActivity, { capture: true });
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.trailing !== undefined) clearTimeout(this.trailing);
  }
}
