import { html } from 'lit';
import { utc } from '../../api';
import { toast } from '../../toast';
import type { Comment } from '../live';
import { threads } from '../overlay-paint';
import type { EditorState } from '../state';
import { hubProblem } from '../work';
import { EditorPanel } from './panel';

/**
 * The image's comment threads, numbered as their pins: each with its replies, a reply box and Resolve / Reopen; a new
 * thread is written here after the comment tool (C) placed its pin. Live: CommentAdded and CommentChanged from
 * everyone on the image. Annotators and above write and resolve (the server's rule); viewers read.
 */
export class CommentsPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.comments, s.role, s.commentDraft]; }
  private busy = false;
  private focused: unknown = null;

  protected override updated(): void {
    // A pin was just placed (or moved): its text box takes the keys.
    const draft = this.ed.state.commentDraft;
    const box = this.querySelector<HTMLTextAreaElement>('textarea[name=new-comment]');
    // After the frame: the click that placed it would otherwise move the focus back to the stage (mousedown).
    if (box && draft && this.focused !== draft) requestAnimationFrame(() => box.focus());
    this.focused = draft;
  }

  private async add(text: string, form: HTMLFormElement): Promise<void> {
    const ed = this.ed, draft = ed.state.commentDraft;
    if (!draft || this.busy) return;
    if (!text.trim()) { toast('Type the comment first (Esc drops the pin)', true); return; }
    this.busy = true;
    try {
      await ed.live.addComment(draft.x, draft.y, text.trim());
      form.reset();
      ed.store.set({ commentDraft: null });
      toast('Comment added');
      ed.stage.focus();
    } catch (err) { toast(`Comment not added: ${hubProblem(err)}`, true); }
    finally { this.busy = false; }
  }

  private async reply(thread: Comment, input: HTMLInputElement): Promise<void> {
    const text = input.value.trim();
    if (!text) { toast('Type the reply first', true); return; }
    try {
      await this.ed.live.addComment(thread.x, thread.y, text, thread.id);
      input.value = '';
      toast('Reply added');
    } catch (err) { toast(`Reply not added: ${hubProblem(err)}`, true); }
  }

  private async resolve(thread: Comment, resolved: boolean): Promise<void> {
    try {
      await this.ed.live.resolveComment(thread.id, resolved);
      toast(resolved ? 'Thread resolved' : 'Thread reopened');
    } catch (err) { toast(`Not changed: ${hubProblem(err)}`, true); }
  }

  private cancel(): void {
    this.ed.store.set({ commentDraft: null });
    this.ed.redrawOverlay();
    this.ed.stage.focus();
    toast('Comment pin dropped');
  }

  protected override render() {
    const ed = this.ed, mayWrite = ed.mayEdit, draft = ed.state.commentDraft;
    const all = [...ed.live.comments.values()], list = threads(ed);
    const replies = (id: string) => all.filter(c => c.parentId === id).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const open = list.filter(t => !t.resolved).length;
    return html`<h4>Comments <span class="muted">${list.length ? `${open} open of ${list.length}` : ''}</span></h4>
      ${draft ? html`<form class="comment-new" aria-label="New comment" @submit=${(e: SubmitEvent) => {
          e.preventDefault();
          const form = e.target as HTMLFormElement;
          this.add((form.elements.namedItem('new-comment') as HTMLTextAreaElement).value, form);
        }}>
        <textarea name="new-comment" rows="3" maxlength="5000" aria-label="New comment" placeholder="Comment at the + pin (Enter adds it, Shift+Enter a new line)"
          @keydown=${(e: KeyboardEvent) => {
            if (e.key === 'Escape') { e.preventDefault(); this.cancel(); }
            else if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); (e.target as HTMLTextAreaElement).form!.requestSubmit(); }
          }}></textarea>
        <button type="submit" class="primary">Add comment</button> <button type="button" @click=${() => this.cancel()}>Cancel</button>
      </form>` : ''}
      ${list.map((t, i) => html`<div class="thread ${t.resolved ? 'resolved' : ''}" data-id=${t.id} role="group" aria-label="Comment ${i + 1}">
        <div class="comment"><span class="pin">${i + 1}</span> <strong>${t.author}</strong> <span class="muted when">${time(t.createdAt)}</span>
          ${t.resolved ? html`<span class="chip">resolved</span>` : ''}<div class="text">${t.text}</div></div>
        ${replies(t.id).map(r => html`<div class="comment reply"><strong>${r.author}</strong> <span class="muted when">${time(r.createdAt)}</span><div class="text">${r.text}</div></div>`)}
        ${mayWrite ? html`<form class="reply-form" @submit=${(e: SubmitEvent) => { e.preventDefault(); this.reply(t, (e.target as HTMLFormElement).elements.namedItem('reply') as HTMLInputElement); }}>
            <input name="reply" maxlength="5000" placeholder="Reply…" aria-label="Reply to comment ${i + 1}" />
            <button type="submit">Reply</button>
            <button type="button" @click=${() => this.resolve(t, !t.resolved)}>${t.resolved ? 'Reopen' : 'Resolve'}</button></form>` : ''}
      </div>`)}
      ${list.length === 0 && !draft ? html`<p class="muted">None yet${mayWrite ? ' (C, then click the image, pins one)' : ''}</p>` : ''}`;
  }
}
customElements.define('vl-comments-panel', CommentsPanel);

const time = (t: string) => utc(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
