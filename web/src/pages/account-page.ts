import { html, render } from 'lit';
import { api, ApiError } from '../api';
import { currentAccount, userMenu } from '../session';
import { toast } from '../toast';

interface Token { id: string; name: string; scope: 'read' | 'write' | 'metrics'; createdAt: string; expiresAt?: string | null; revokedAt?: string | null; lastUsedAt?: string | null }

const day = (iso?: string | null) => iso ? new Date(iso).toISOString().slice(0, 10) : '';

/** /account: change password; personal access tokens (created here, shown once; revoked here). */
export function accountPage(root: HTMLElement): void {
  let tokens: Token[] = [];
  let created: string | undefined;

  const load = async () => {
    try { tokens = await api.tokens() as Token[]; } catch (err) { toast((err as Error).message, true); }
    draw();
  };

  const changePassword = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    if (data.get('new') !== data.get('confirm')) { toast('The two new passwords differ', true); return; }
    try {
      await api.changePassword(String(data.get('current')), String(data.get('new')));
      form.reset();
      toast('Password changed; your other sessions are signed out');
    } catch (err) { toast((err as ApiError).message, true); }
  };

  const createToken = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const days = Number(data.get('days'));
    try {
      const result = await api.createToken(String(data.get('name')), String(data.get('scope')) as 'read' | 'write' | 'metrics', days > 0 ? days : undefined);
      created = result.token;
      form.reset();
      toast('Token created: copy it now, it is not shown again');
      await load();
    } catch (err) { toast((err as ApiError).message, true); }
  };

  const revoke = async (t: Token) => {
    if (!confirm(`Revoke the token "${t.name}"? Whatever uses it stops working at once.`)) return;
    try { await api.revokeToken(t.id); toast(`Revoked ${t.name}`); await load(); } catch (err) { toast((err as ApiError).message, true); }
  };

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><strong>Account</strong>${userMenu()}</header>
    <main class="page">
      <h2>${currentAccount().userName}</h2>
      <form class="card" @submit=${changePassword} aria-label="Change password">
        <h3>Change password</h3>
        <input type="text" name="username" autocomplete="username" value=${currentAccount().userName} hidden />
        <p><label>Current password<br><input name="current" type="password" autocomplete="current-password" required /></label></p>
        <p><label>New password (10 characters or more)<br><input name="new" type="password" autocomplete="new-password" required minlength="10" /></label></p>
        <p><label>New password again<br><input name="confirm" type="password" autocomplete="new-password" required minlength="10" /></label></p>
        <p><button type="submit">Change password</button></p>
      </form>
      <section class="card" aria-label="Access tokens">
        <h3>Personal access tokens</h3>
        <p class="muted">For scripts, the CLI and training pipelines: send as <code>Authorization: Bearer TOKEN</code>. Read tokens can only read.</p>
        ${created ? html`<p class="token-once" role="status">New token (shown only now): <code class="secret">${created}</code>
          <button type="button" @click=${() => navigator.clipboard?.writeText(created!).then(() => toast('Copied'), () => toast('Copy it by hand', true))}>Copy</button></p>` : ''}
        <table class="tokens">
          <thead><tr><th>Name</th><th>Scope</th><th>Created</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
          <tbody>${tokens.map(t => html`<tr class=${t.revokedAt ? 'revoked' : ''}>
            <td>${t.name}</td><td>${t.scope}</td><td>${day(t.createdAt)}</td><td>${day(t.expiresAt) || 'never'}</td><td>${day(t.lastUsedAt) || '—'}</td>
            <td>${t.revokedAt ? html`revoked ${day(t.revokedAt)}` : html`<button type="button" @click=${() => revoke(t)}>Revoke</button>`}</td></tr>`)}</tbody>
        </table>
        <form @submit=${createToken} aria-label="New token">
          <input name="name" placeholder="What it is for" required maxlength="200" aria-label="Token name" />
          <select name="scope" aria-label="Scope" title="read: GET only; write: everything you may do${currentAccount().isAdmin ? '; metrics: /metrics only, for a Prometheus scraper' : ''}"><option value="read">read</option><option value="write">write</option>${currentAccount().isAdmin ? html`<option value="metrics">metrics (/metrics only)</option>` : ''}</select>
          <input name="days" type="number" min="1" max="3650" placeholder="Expires in days (blank: never)" aria-label="Expires in days" />
          <button type="submit">Create token</button>
        </form>
      </section>
    </main>`, root);
  draw();
  load();
}
