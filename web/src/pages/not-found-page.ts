import { html, render } from 'lit';
import { userMenu } from '../session';

/** A path the app has no page for: says so, with the way back (it used to show the projects page instead). */
export function notFoundPage(root: HTMLElement, path: string): void {
  render(html`
    <header class="top"><a href="/">VisionLabel</a>${userMenu()}</header>
    <main class="page not-found">
      <h2>Page not found</h2>
      <p role="alert">Nothing lives at <code>${path}</code>.</p>
      <p><a href="/">Back to the projects</a></p>
    </main>`, root);
}
