import { html } from 'lit';
import type { OutcomeRow, ThresholdAdvice, TimeSaved } from '../api';
import { gridHref } from '../image-filters';
import type { Series } from './analytics-charts';
import { duration } from './people-page';

// The Models page's parts that only present a report (models-page.ts loads and draws them): the outcome series, the
// totals, the recommended thresholds and the time saved. The definitions are docs/models-in-the-loop.md's.

/** The outcomes in the order a proposal's fate reads (kept, then fixed, then wrong, then undecided), with their words. */
export const outcomes = [
  { key: 'acceptedUnchanged', text: 'accepted unchanged', title: 'Accepted with the proposed label and geometry', color: '#3ccf7a' },
  { key: 'edited', text: 'edited', title: 'Accepted with its geometry changed', color: '#4c8dff' },
  { key: 'relabeled', text: 'relabeled', title: 'Given another label (accepted or not)', color: '#c77dff' },
  { key: 'rejected', text: 'rejected', title: 'Deleted or rejected by a person', color: '#ff5a5f' },
  { key: 'pending', text: 'pending', title: 'Still proposed: nobody has decided yet', color: '#a0a0a0' },
] as const;
export const missedColor = '#ffb020';

/**
 * The stacked series of a report's rows: the five outcomes in one stack, and (per label) the shapes people drew by
 * hand in a stack of their own beside it, since they are not proposals. Zeros are left out (null) so an empty outcome
 * draws no sliver in the stack.
 */
export function outcomeSeries(rows: readonly OutcomeRow[], withMissed: boolean): Series[] {
  const value = (n: number) => (n > 0 ? n : null);
  const series: Series[] = outcomes.map(o => ({ label: o.text, color: o.color, stack: 'proposals', data: rows.map(r => value(r[o.key])) }));
  if (withMissed) series.push({ label: 'missed (drawn by hand)', color: missedColor, stack: 'missed', data: rows.map(r => value(r.missed)) });
  return series;
}

/** Where a score band's bars lead: the grid's images with a model score in the band and proposals still waiting. */
export function bandHref(projectId: string, band: number): string {
  return gridHref(projectId, { minScore: band.toFixed(1), maxScore: Math.min(1, band + 0.1).toFixed(1), hasProposals: 'true' });
}

/** Where a label's bars lead: the grid's images with that label and proposals still waiting. */
export const labelHref = (projectId: string, labelId: string) => gridHref(projectId, { label: labelId, hasProposals: 'true' });

const proposals = (r: OutcomeRow) => r.acceptedUnchanged + r.edited + r.relabeled + r.rejected + r.pending;
const fixed3 = (v: number | null | undefined) => (v == null ? '—' : v.toFixed(3));

/** The totals over every proposal of the model, and the shapes people drew by hand on its images. */
export function totalsCard(t: OutcomeRow) {
  const decided = proposals(t) - t.pending;
  const stat = (key: string, value: number | string, label: string, title: string) =>
    html`<div class="stat" data-key=${key} title=${title}><strong>${value}</strong><span class="muted">${label}</span></div>`;
  return html`<section class="card health-summary model-totals" aria-label="Totals">
    ${stat('proposals', proposals(t), 'proposals', 'Every proposal of this model that is not superseded')}
    ${outcomes.map(o => stat(o.key, t[o.key], o.text, o.title))}
    ${stat('missed', t.missed, 'missed', 'Shapes people drew by hand (and did not reject) on the images this model pre-labelled')}
    ${stat('unchangedShare', decided ? `${Math.round((100 * t.acceptedUnchanged) / decided)}%` : '—', 'of decided kept as proposed',
      `Accepted unchanged of the ${decided} proposals people decided on (pending ones left out)`)}
  </section>`;
}

/** Each label's recommended confidence threshold: the score with the best F1 over its decided proposals. */
export function thresholdsCard(projectId: string, rows: readonly ThresholdAdvice[]) {
  const th = (text: string, title: string) => html`<th scope="col" title=${title}>${text}</th>`;
  return html`<section class="card model-thresholds" aria-label="Recommended thresholds">
    <h3>Recommended thresholds <span class="muted">the score with the best F1, per label</span></h3>
    <div class="table-scroll"><table class="work-table quality-table thresholds-table">
      <thead><tr>${th('Label', 'The label the model proposed')}${th('Threshold', 'Keep proposals scoring at least this')}${th('F1', 'F1 at that threshold')}
        ${th('Precision', 'Of the proposals at or above it, the share kept')}${th('Recall', 'Of the kept proposals and missed shapes, the share at or above it')}
        ${th('Kept', 'Accepted unchanged or edited')}${th('Wrong', 'Rejected or relabeled')}${th('Missed', 'Drawn by hand on the images the model pre-labelled')}</tr></thead>
      <tbody>${rows.map(r => html`<tr data-label=${r.label}>
        <th scope="row"><a href=${labelHref(projectId, r.labelId)} title="The images with ${r.label} and proposals waiting, in the grid">${r.label}</a></th>
        <td data-col="threshold" title=${r.threshold == null ? 'None: nothing of this label was kept' : ''}>${fixed3(r.threshold)}</td>
        <td data-col="f1">${fixed3(r.f1)}</td><td data-col="precision">${fixed3(r.precision)}</td><td data-col="recall">${fixed3(r.recall)}</td>
        <td data-col="kept">${r.kept}</td><td data-col="wrong">${r.wrong}</td><td data-col="missed">${r.missed}</td></tr>`)}</tbody>
    </table></div>
    <p class="muted small">Over the decided proposals with a score (pending ones left out); ties go to the higher threshold (fewer proposals to check).</p>
  </section>`;
}

const perObject = (v: number | null | undefined) => (v == null ? '—' : `${v.toFixed(1)} s`);

/** Time saved against drawing by hand, from active time: an estimate, and said to be one. */
export function timeSavedCard(t: TimeSaved) {
  const saved = t.savedSeconds;
  const missing = [t.handSecondsPerObject == null ? 'images drawn by hand (no model\'s proposals)' : '', t.modelSecondsPerObject == null ? 'images this model pre-labelled' : '']
    .filter(Boolean);
  return html`<section class="card time-saved" aria-label="Time saved">
    <h3>Time saved <span class="muted">an estimate</span></h3>
    <p class="saved" data-seconds=${saved ?? ''}>${saved == null
      ? html`Not estimated yet: it needs active time and accepted objects on ${missing.join(' and on ')}.`
      : html`About <strong>${duration(Math.abs(saved))}</strong> ${saved >= 0 ? 'saved' : 'lost'} over <strong>${t.modelObjects}</strong> object${t.modelObjects === 1 ? '' : 's'} accepted on this model's images.`}</p>
    <div class="health-summary">
      <div class="stat" data-key="hand" title="Active seconds per accepted object on images without any model's proposals"><strong>${perObject(t.handSecondsPerObject)}</strong>
        <span class="muted">per object by hand</span></div>
      <div class="stat" data-key="model" title="Active seconds per accepted object on the images this model pre-labelled"><strong>${perObject(t.modelSecondsPerObject)}</strong>
        <span class="muted">per object with the model</span></div>
    </div>
    <p class="muted small">Saved = objects × (by hand − with the model). An estimate: the images pre-labelled and those drawn by hand may differ in difficulty.</p>
  </section>`;
}
