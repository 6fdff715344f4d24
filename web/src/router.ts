// The app's routes, in one table: main.ts renders the first that matches, links to any of them navigate in-app,
// and anything else is the not-found page. The server answers index.html for the same paths
// (src/VisionLabel.Server/Web/WebApp.cs, Routes): a route added here is added there too, or a reload of it 404s.
import { currentUser } from './session';
import { signInPage, setupPage } from './pages/signin-page';
import { accountPage } from './pages/account-page';
import { adminPage } from './pages/admin-page';
import { projectsPage } from './pages/projects-page';
import { projectPage } from './pages/project-page';
import { workPage } from './pages/work-page';
import { qualityPage } from './pages/quality-page';
import { guidelinesPage } from './pages/guidelines-page';
import { peoplePage } from './pages/people-page';
import { healthPage } from './pages/health-page';
import { modelsPage } from './pages/models-page';
import { comparisonsPage } from './pages/comparisons-page';
import { judgePage } from './pages/judge-page';
import { webhooksPage } from './pages/webhooks-page';
import { notFoundPage } from './pages/not-found-page';
import { EditorPage } from './editor/editor-page';

/** Renders a page into its container; returns what to do when the page is left. */
type Page = (root: HTMLElement, params: string[]) => (() => void) | void;

export interface Route {
  readonly path: RegExp;
  readonly page: Page;
  /** Shown without an account (the sign-in and first-admin pages); the rest need one. */
  readonly public?: boolean;
}

const id = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';

export const routes: readonly Route[] = [
  { path: /^\/$/, page: root => projectsPage(root) },
  { path: new RegExp(`^/projects/${id}$`, 'i'), page: (root, [projectId]) => projectPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/work$`, 'i'), page: (root, [projectId]) => workPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/quality$`, 'i'), page: (root, [projectId]) => qualityPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/guidelines$`, 'i'), page: (root, [projectId]) => guidelinesPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/people$`, 'i'), page: (root, [projectId]) => peoplePage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/health$`, 'i'), page: (root, [projectId]) => healthPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/models$`, 'i'), page: (root, [projectId]) => modelsPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/comparisons$`, 'i'), page: (root, [projectId]) => comparisonsPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/webhooks$`, 'i'), page: (root, [projectId]) => webhooksPage(root, projectId) },
  { path: new RegExp(`^/projects/${id}/comparisons/${id}/judge$`, 'i'), page: (root, [projectId, comparisonId]) => judgePage(root, projectId, comparisonId) },
  { path: new RegExp(`^/images/${id}$`, 'i'), page: (root, [imageId]) => { const editor = new EditorPage(root, imageId, currentUser()); return () => editor.dispose(); } },
  { path: /^\/signin$/, page: root => signInPage(root), public: true },
  { path: /^\/setup$/, page: root => setupPage(root), public: true },
  { path: /^\/account$/, page: root => accountPage(root) },
  { path: /^\/admin$/, page: root => adminPage(root) },
];

/** The route for a path, with its parameters; the not-found page when none matches. */
export function match(path: string): { route: Route; params: string[] } {
  for (const route of routes) {
    const m = route.path.exec(path);
    if (m) return { route, params: m.slice(1) };
  }
  return { route: { path: /^/, page: root => notFoundPage(root, path) }, params: [] };
}

/** Whether a path is one of the app's pages (a link to it navigates in-app; others load from the server). */
export const isAppRoute = (path: string) => routes.some(r => r.path.test(path));
