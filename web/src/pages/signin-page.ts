import { html, render } from 'lit';

/** Where to go after signing in: the ?return= path if it is one of ours, else the project list. */
function returnPath(): string {
  const target = new URLSearchParams(location.search).get('return') ?? '/';
  return target.startsWith('/') && !target.startsWith('//') ? target : '/';
}

async function post(path: string, body: unknown): Promise<{ ok: boolean; message: string }> {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.ok) return { ok: true, message: '' };
  const problem = await response.json().catch(() => undefined);
  const first = problem?.errors ? Object.values(problem.errors as Record<string, string[]>)[0]?.[0] : undefined;
  const said = problem?.title && problem?.detail ? `${problem.title}. ${problem.detail}` : problem?.detail ?? problem?.title;
  return { ok: false, message: first ?? said ?? `${response.status} ${response.statusText}` };
}

/** /signin: user name (or e-mail) and password, with the autocomplete names password managers look for. */
export function signInPage(root: HTMLElement): void {
  let error = new URLSearchParams(location.search).get('error') ?? ''; // from single sign-on
  let busy = false;
  let providers: { name: string; displayName: string; url: string }[] = [];
  fetch('/api/account/providers').then(r => r.ok ? r.json() : []).then(p => { providers = p; draw(); }).catch(() => {});
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    busy = true; error = ''; draw();
    const result = await post('/api/account/signin', { userName: String(data.get('username') ?? ''), password: String(data.get('password') ?? '') });
    busy = false;
    if (result.ok) { location.assign(returnPath()); return; }
    error = result.message;
    draw();
  };
  const draw = () => render(html`
    <main class="page narrow">
      <h1>VisionLabel</h1>
      <form class="card" @submit=${submit} aria-label="Sign in">
        <h2>Sign in</h2>
        <p><label>User name or e-mail<br><input name="username" autocomplete="username" required maxlength="256" autofocus /></label></p>
        <p><label>Password<br><input name="password" type="password" autocomplete="current-password" required maxlength="1024" /></label></p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        <p><button type="submit" ?disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button></p>
        ${providers.map(p => html`<p><a class="button" href="${p.url}?return=${encodeURIComponent(returnPath())}">${p.displayName}</a></p>`)}
        <p class="muted">No account? Ask an admin of this server to create one.</p>
      </form>
    </main>`, root);
  draw();
}

/** /setup?token=…: creates the first admin with the one-time link the server printed at its first start. */
export function setupPage(root: HTMLElement): void {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  let error = token ? '' : 'Open the link the server printed when it started (it carries a one-time token).';
  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    if (data.get('password') !== data.get('confirm')) { error = 'The two passwords differ.'; draw(); return; }
    const result = await post('/api/setup', {
      token, userName: String(data.get('username') ?? ''), password: String(data.get('password') ?? ''), email: String(data.get('email') ?? '') || null,
    });
    if (result.ok) { location.assign('/'); return; }
    error = result.message;
    draw();
  };
  const draw = () => render(html`
    <main class="page narrow">
      <h1>VisionLabel</h1>
      <form class="card" @submit=${submit} aria-label="Create the first admin">
        <h2>Create the first admin</h2>
        <p><label>User name<br><input name="username" autocomplete="username" required maxlength="200" autofocus /></label></p>
        <p><label>E-mail (optional)<br><input name="email" type="email" autocomplete="email" maxlength="256" /></label></p>
        <p><label>Password (10 characters or more)<br><input name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" /></label></p>
        <p><label>Password again<br><input name="confirm" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" /></label></p>
        ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
        <p><button type="submit" ?disabled=${!token}>Create admin and sign in</button></p>
      </form>
    </main>`, root);
  draw();
}
