// One line of feedback at the bottom of the page: every action says what happened.
let timer: number | undefined;

export function toast(message: string, error = false): void {
  let el = document.querySelector<HTMLDivElement>('.toast');
  if (!el) { el = document.createElement('div'); el.className = 'toast'; document.body.append(el); }
  el.textContent = message;
  el.classList.toggle('error', error);
  el.setAttribute('role', 'status');
  el.hidden = false;
  clearTimeout(timer);
  timer = window.setTimeout(() => { el!.hidden = true; }, 4000);
}
