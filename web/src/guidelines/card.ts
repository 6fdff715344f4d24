import { html, nothing, render } from 'lit';
import type { Label } from '../api';
import './example-crop';
import type { DraftExample, GuidelineCard } from './guidelines-api';
import { guidelinesOf } from './guidelines-api';
import './guidelines.css';

/** A label's card: its description and its positive and negative example shapes, each cropped from its image. */
export function labelCard(label: Label | undefined, card: { description: string; positive: DraftExample[]; negative: DraftExample[] } | undefined,
  options: { size?: number; max?: number } = {}) {
  const size = options.size ?? 96, max = options.max ?? 20;
  const examples = (list: DraftExample[], positive: boolean) => list.length
    ? html`<div class="examples ${positive ? 'positive' : 'negative'}" aria-label="${positive ? 'Positive' : 'Negative'} examples">
        <span class="examples-head">${positive ? '✓ is' : '✗ is not'}</span>
        ${list.slice(0, max).map(e => html`<vl-example-crop .example=${e} ?positive=${positive} size=${size}></vl-example-crop>`)}
        ${list.length > max ? html`<span class="muted">+${list.length - max}</span>` : nothing}</div>`
    : nothing;
  return html`<section class="label-card" data-label=${label?.id ?? ''} aria-label="Card of ${label?.name ?? 'a deleted label'}">
    <h4><span class="swatch" style="background:${label?.color ?? '#888'}"></span> ${label?.name ?? 'a deleted label'}</h4>
    ${card?.description ? html`<p class="card-description">${card.description}</p>` : html`<p class="muted">No description yet.</p>`}
    ${card ? examples(card.positive, true) : nothing}
    ${card ? examples(card.negative, false) : nothing}
  </section>`;
}

/** A card of the current guidelines, by label. */
export const cardOf = (cards: readonly GuidelineCard[] | undefined, labelId: string) => cards?.find(c => c.labelId === labelId);

let tip: HTMLDivElement | undefined;
let shownFor: HTMLElement | undefined;

/**
 * Hovering a label (the editor's labels panel): its card's description and first positive example in a tooltip
 * beside the row. The guidelines are read once per project (guidelinesOf) and shared with the Guidelines panel.
 */
export async function showCardTip(projectId: string | undefined, label: Label, anchor: HTMLElement, hint = ''): Promise<void> {
  shownFor = anchor;
  if (!projectId) return;
  let description: unknown, example: DraftExample | undefined;
  try {
    const g = await guidelinesOf(projectId);
    const card = cardOf(g.current?.cards, label.id);
    description = card?.description ? html`<p class="card-description">${card.description}</p>`
      : html`<p class="muted">${g.current ? `No card for ${label.name} in guidelines ${g.current.version}.` : 'No guidelines published yet.'}</p>`;
    example = card?.positive[0];
  } catch (err) { description = html`<p class="error">Guidelines not read: ${(err as Error).message}</p>`; }
  if (shownFor !== anchor || !anchor.isConnected) return; // left meanwhile
  tip ??= Object.assign(document.createElement('div'), { className: 'card-tip' });
  tip.setAttribute('role', 'tooltip');
  tip.id = 'label-card-tip';
  if (!tip.isConnected) document.body.append(tip);
  render(html`<strong><span class="swatch" style="background:${label.color}"></span> ${label.name}</strong>${description}
    ${example ? html`<vl-example-crop .example=${example} positive size="120"></vl-example-crop>` : nothing}
    ${hint ? html`<p class="muted tip-hint">${hint}</p>` : nothing}`, tip);
  anchor.setAttribute('aria-describedby', tip.id);
  const r = anchor.getBoundingClientRect();
  tip.hidden = false;
  // Beside the row, on the side with room (the editor's panel is at the right edge), kept on screen.
  const width = tip.offsetWidth, height = tip.offsetHeight;
  const left = r.left - width - 8 >= 0 ? r.left - width - 8 : Math.min(r.right + 8, innerWidth - width - 4);
  tip.style.left = `${Math.max(4, left)}px`;
  tip.style.top = `${Math.max(4, Math.min(r.top, innerHeight - height - 4))}px`;
}

export function hideCardTip(anchor?: HTMLElement): void {
  if (anchor && shownFor !== anchor) return;
  shownFor?.removeAttribute('aria-describedby');
  shownFor = undefined;
  if (tip) { tip.hidden = true; render(nothing, tip); }
}
