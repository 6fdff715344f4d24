// VisionLabel in the browser. Routes: / (projects), /projects/{id} (one project), /images/{id} (the editor),
// /signin, /setup (the first admin), /account (password and access tokens), /admin (users, for admins).
// Links are ordinary anchors; navigation goes through history.pushState so deep links survive a reload.
import { currentUser, loadAccount, toSignIn } from './session';
import { signInPage, setupPage } from './pages/signin-page';
import { accountPage } from './pages/account-page';
import { adminPage } from './pages/admin-page';
import { projectsPage } from './pages/projects-page';
import { projectPage } from './pages/project-page';
import { EditorPage } from './editor/editor-page';

const app = document.getElementById('app')!;
let teardown: (() => void) | undefined;

export function navigate(path: string): void {
  history.pushState(null, '', path);
  route();
}

function route(): void {
  teardown?.();
  teardown = undefined;
  // A fresh container per page: lit keeps its render state on the container it rendered into.
  const page = document.createElement('div');
  app.replaceChildren(page);
  const path = location.pathname;
  let m: RegExpMatchArray | null;
  if (path === '/signin') signInPage(page);
  else if (path === '/setup') setupPage(page);
  else if (path === '/account') accountPage(page);
  else if (path === '/admin') adminPage(page);
  else if ((m = path.match(/^\/images\/([0-9a-f-]{36})$/i))) {
    const editor = new EditorPage(page, m[1], currentUser());
    teardown = () => editor.dispose();
  } else if ((m = path.match(/^\/projects\/([0-9a-f-]{36})$/i))) {
    teardown = projectPage(page, m[1]);
  } else {
    projectsPage(page);
  }
}

document.addEventListener('click', e => {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || a.origin !== location.origin || a.target || e.ctrlKey || e.metaKey || e.shiftKey || a.hasAttribute('download')) return;
  if (!/^\/(projects|images)\/|^\/$|^\/(account|admin)$/.test(a.pathname)) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});
window.addEventListener('popstate', route);
// Signed-in pages need the account first; /signin and /setup do not.
if (location.pathname === '/signin' || location.pathname === '/setup') route();
else loadAccount().then(account => account ? route() : toSignIn(), () => toSignIn());
