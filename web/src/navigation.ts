/** In-app navigation: the URL changes (history.pushState, so deep links survive a reload) and the router follows. */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('vl:navigate'));
}
