// The signed-in account. The server keeps the session in an HttpOnly cookie; this module only knows who it is
// (GET /api/account, which also refreshes the XSRF-TOKEN cookie that every change echoes as X-XSRF-TOKEN).
import { html } from 'lit';

export interface Account { id: string; userName: string; email?: string | null; isAdmin: boolean; canCreateProjects?: boolean }

let account: Account | undefined;

/** Loads the account; undefined when nobody is signed in. */
export async function loadAccount(): Promise<Account | undefined> {
  const response = await fetch('/api/account', { headers: { accept: 'application/json' } });
  account = response.ok ? await response.json() as Account : undefined;
  return account;
}

export function currentAccount(): Account {
  if (!account) throw new Error('not signed in');
  return account;
}

/** The name others see on edits, comments and cursors: the account's user name. */
export function currentUser(): string { return account?.userName ?? ''; }

/** The antiforgery request token the server set in the XSRF-TOKEN cookie. */
export function xsrfToken(): string {
  const match = document.cookie.split('; ').find(c => c.startsWith('XSRF-TOKEN='));
  return match ? decodeURIComponent(match.slice('XSRF-TOKEN='.length)) : '';
}

/** Sends the browser to the sign-in page, coming back here afterwards. */
export function toSignIn(): void {
  if (location.pathname === '/signin' || location.pathname === '/setup') return;
  location.assign(`/signin?return=${encodeURIComponent(location.pathname + location.search)}`);
}

export async function signOut(): Promise<void> {
  await fetch('/api/account/signout', { method: 'POST', headers: { 'X-XSRF-TOKEN': xsrfToken() } });
  account = undefined;
  location.assign('/signin');
}

/** The top bar's right side: the notification bell (bell.ts), who is signed in, their account page, and sign-out. */
export function userMenu() {
  return html`<span class="user"><vl-bell></vl-bell>
    <a href="/account" title="Password and access tokens">${currentUser()}</a>${account?.isAdmin ? html` <a class="chip" href="/admin" title="Users and the jobs dashboard">admin</a>` : ''}
    <button type="button" class="link" @click=${() => signOut()}>Sign out</button>
  </span>`;
}

export type Role = 'viewer' | 'annotator' | 'reviewer' | 'owner';
const ranks: Record<Role, number> = { viewer: 1, annotator: 2, reviewer: 3, owner: 4 };

/** Whether <role> has the rights of <least> (each role has those of the ones below it). */
export function atLeast(role: Role | undefined, least: Role): boolean { return !!role && ranks[role] >= ranks[least]; }

export interface Member { userId: string; userName: string; email?: string | null; role: Role; addedAt: string }

/** The signed-in account's role in a project (admins act as owners). The server checks every action regardless. */
export async function projectRole(projectId: string, members?: Member[]): Promise<Role | undefined> {
  if (account?.isAdmin) return 'owner';
  members ??= await (await fetch(`/api/projects/${projectId}/members`)).json() as Member[];
  return members.find(m => m.userId === account?.id)?.role;
}

/** "a viewer", "an annotator", "a reviewer", "an owner". */
export function withArticle(role: Role | undefined): string {
  return role ? `${role === 'annotator' || role === 'owner' ? 'an' : 'a'} ${role}` : '…';
}
