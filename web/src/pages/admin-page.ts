import { html, render } from 'lit';
import { api, ApiError } from '../api';
import { currentAccount, userMenu } from '../session';
import { toast } from '../toast';

interface User { id: string; userName: string; email?: string | null; isAdmin: boolean; disabled: boolean; createdAt: string }

/** /admin (instance admins): every account; create one, make or unmake an admin, disable, set a new password. */
export function adminPage(root: HTMLElement): void {
  let users: User[] = [];
  const load = async () => {
    try { users = await api.users() as User[]; } catch (err) { toast((err as Error).message, true); }
    draw();
  };
  const act = async (action: () => Promise<unknown>, done: string) => {
    try { await action(); toast(done); await load(); } catch (err) { toast((err as ApiError).message, true); }
  };
  const create = (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const userName = String(data.get('username') ?? '');
    act(() => api.createUser({ userName, email: String(data.get('email') ?? '') || null, password: String(data.get('password') ?? ''), isAdmin: data.get('admin') === 'on' }),
      `Created ${userName}`).then(() => form.reset());
  };
  const resetPassword = (u: User) => {
    const password = prompt(`New password for ${u.userName} (10 characters or more); their sessions end`);
    if (password) act(() => api.updateUser(u.id, { password }), `${u.userName}'s password set`);
  };
  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><strong>Users</strong>${userMenu()}</header>
    <main class="page">
      <p><a href="/hangfire">Jobs dashboard</a></p>
      <table class="tokens users">
        <thead><tr><th>User</th><th>E-mail</th><th>Admin</th><th>State</th><th></th></tr></thead>
        <tbody>${users.map(u => html`<tr class=${u.disabled ? 'revoked' : ''}>
          <td>${u.userName}</td><td>${u.email ?? ''}</td>
          <td><input type="checkbox" aria-label="admin: ${u.userName}" .checked=${u.isAdmin} ?disabled=${u.id === currentAccount().id}
            @change=${(e: Event) => act(() => api.updateUser(u.id, { isAdmin: (e.target as HTMLInputElement).checked }), `${u.userName} updated`)} /></td>
          <td>${u.disabled ? 'disabled' : 'active'}</td>
          <td>${u.id === currentAccount().id ? '' : html`
            <button @click=${() => act(() => api.updateUser(u.id, { disabled: !u.disabled }), `${u.userName} ${u.disabled ? 'enabled' : 'disabled'}`)}>${u.disabled ? 'Enable' : 'Disable'}</button>`}
            <button @click=${() => resetPassword(u)}>Set password</button></td></tr>`)}</tbody>
      </table>
      <form class="card" @submit=${create} aria-label="New user">
        <h3>New user</h3>
        <input name="username" placeholder="User name" aria-label="User name" required maxlength="200" autocomplete="off" />
        <input name="email" type="email" placeholder="E-mail (optional)" aria-label="E-mail" maxlength="256" autocomplete="off" />
        <input name="password" type="password" placeholder="Password (10+ characters)" aria-label="Password" required minlength="10" autocomplete="new-password" />
        <label><input name="admin" type="checkbox" /> admin</label>
        <button type="submit">Create user</button>
      </form>
    </main>`, root);
  draw();
  load();
}
