// VisionLabel in the browser. The pages and their paths are in router.ts. Links are ordinary anchors; navigation
// goes through history.pushState (navigation.ts) so deep links survive a reload.
import { loadAccount, toSignIn } from './session';
import { match, isAppRoute } from './router';
import { navigate } from './navigation';
import './bell'; // <vl-bell>, in every signed-in page's header

const app = document.getElementById('app')!;
let teardown: (() => void) | undefined;

function route(): void {
  teardown?.();
  teardown = undefined;
  // A fresh container per page: lit keeps its render state on the container it rendered into.
  const page = document.createElement('div');
  app.replaceChildren(page);
  const { route, params } = match(location.pathname);
  teardown = route.page(page, params) ?? undefined;
}

document.addEventListener('click', e => {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || a.origin !== location.origin || a.target || e.ctrlKey || e.metaKey || e.shiftKey || a.hasAttribute('download')) return;
  // The app's pages navigate in place; anything else (the API, downloads) is the server's.
  if (!isAppRoute(a.pathname)) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', route);
window.addEventListener('vl:navigate', route);
// Signed-in pages need the account first; /signin and /setup do not.
if (match(location.pathname).route.public) route();
else loadAccount().then(account => account ? route() : toSignIn(), () => toSignIn());
