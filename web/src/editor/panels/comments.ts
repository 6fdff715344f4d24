import { html } from 'lit';
import { toast } from '../../toast';
import type { EditorState } from '../state';
import { EditorPanel } from './panel';

/** The image's comments, numbered as their pins; reviewers resolve them. */
export class CommentsPanel extends EditorPanel {
  protected watch(s: EditorState) { return [s.comments, s.role]; }

  protected override render() {
    const ed = this.ed, canReview = ed.canReview;
    const resolve = (id: string, resolved: boolean) => ed.live.resolveComment(id, resolved)
      .then(() => toast(resolved ? 'Comment resolved' : 'Comment reopened')).catch(err => toast((err as Error).message, true));
    return html`<h4>Comments</h4>
      ${[...ed.live.comments.values()].map((c, i) => html`<div class="comment ${c.resolved ? 'muted' : ''}">
        <strong>${i + 1}</strong> ${c.author}: ${c.text}
        <label title=${canReview ? 'Resolve' : 'Reviewers resolve comments'}><input type="checkbox" .checked=${c.resolved} ?disabled=${!canReview}
          @change=${(e: Event) => resolve(c.id, (e.target as HTMLInputElement).checked)} /> resolved</label></div>`)}
      ${ed.live.comments.size === 0 ? html`<p class="muted">None yet (C pins one)</p>` : ''}`;
  }
}
customElements.define('vl-comments-panel', CommentsPanel);
