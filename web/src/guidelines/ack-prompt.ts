import { html, nothing } from 'lit';
import { utc, type WorkStage } from '../api';
import type { Guidelines } from './guidelines-api';

/** The versions a person has not acknowledged yet: every one of a major above the last they acknowledged (newest first). */
export function unreadVersions(g: Guidelines | undefined) {
  const acknowledged = g?.acknowledgedMajor ?? 0;
  return (g?.versions ?? []).filter(v => Number(v.version.split('.')[0]) > acknowledged);
}

/** The Start button a stage's work waits behind. */
const startName = (stage: WorkStage | undefined) => stage === 'review' ? 'Start reviewing' : stage === 'adjudicate' ? 'Adjudicate next' : 'Start labeling';

/**
 * My work's prompt when the queue refuses more work until a major guidelines version is acknowledged (409
 * "Guidelines X.Y not acknowledged", or known beforehand from GET …/guidelines): what changed since the person's last
 * acknowledged version, and the way to read and acknowledge it, which comes back here and starts the work they asked for.
 */
export function ackPrompt(projectId: string, version: string, g: Guidelines | undefined, stage: WorkStage | undefined, refused: boolean) {
  const changes = unreadVersions(g);
  const then = stage ? `?then=${stage}` : '';
  return html`<section class="card ack-prompt" role=${refused ? 'alert' : 'note'} aria-label="Guidelines to acknowledge">
    <h3>Guidelines ${version} not acknowledged</h3>
    <p>Version ${version} of this project's guidelines is a major change: read it and acknowledge it before you take more work${refused ? html` — <strong>${startName(stage)} waits for it</strong>` : ''}.</p>
    ${changes.length ? html`<h4>What changed</h4><ol class="changelog">${changes.map(v => html`<li><strong>${v.version}</strong>
        <span class="muted">${v.publishedBy}, ${utc(v.publishedAt).toLocaleDateString()}</span><div class="changelog-text">${v.changelog}</div></li>`)}</ol>` : nothing}
    <a class="button primary" href="/projects/${projectId}/guidelines${then}">Read version ${version} and acknowledge${stage ? `, then ${startName(stage).toLowerCase()}` : ''} →</a>
  </section>`;
}
