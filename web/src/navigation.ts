/**
 * In-app navigation: the URL changes (history.pushState, so deep links survive a reload) and the router follows.
 * `state` is handed to the page as history.state (what the page before it has to tell it).
 */
export function navigate(path: string, state: unknown = null): void {
  history.pushState(state, '', path);
  window.dispatchEvent(new Event('vl:navigate'));
}
