// Until accounts exist, the user's name comes from ?user=NAME (remembered) or a prompt.
const key = 'visionlabel.user';

export function currentUser(): string {
  const fromQuery = new URLSearchParams(location.search).get('user');
  if (fromQuery) { localStorage.setItem(key, fromQuery); return fromQuery; }
  let name = localStorage.getItem(key);
  if (!name) {
    name = (prompt('Your name (shown to the people you work with):') ?? '').trim() || `guest-${Math.floor(Math.random() * 1000)}`;
    localStorage.setItem(key, name);
  }
  return name;
}
