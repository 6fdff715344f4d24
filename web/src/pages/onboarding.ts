import { html } from 'lit';
import { ApiError, type Onboarding } from '../api';

/**
 * The queue's refusal while onboarding is not passed and no onboarding honeypot is left (409 "Onboarding not
 * passed"): its detail (the figures, and what an owner can do), or undefined for any other error.
 */
export function onboardingRefusal(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 409 || err.problem?.title !== 'Onboarding not passed') return undefined;
  return err.problem.detail ?? err.message;
}

/** history.state of a page the editor sends the annotator back to when the queue refused them for onboarding. */
export interface OnboardingRefused { onboardingRefused: string }

export function refusedFromHistory(): string | undefined {
  const state = history.state as Partial<OnboardingRefused> | null;
  return typeof state?.onboardingRefused === 'string' ? state.onboardingRefused : undefined;
}

const figure = (n: number | null | undefined) => (n == null ? '—' : n.toFixed(2));

/**
 * My work's onboarding card, for annotators of a project that asks for onboarding: honeypots done of those required,
 * the mean F1 of the last ones against the bar, and whether they passed; with the queue's refusal when it refused.
 */
export function onboardingCard(state: Onboarding | undefined, refused: string | undefined) {
  if (!state) return html`<section class="card onboarding" aria-label="Onboarding"><h3>Onboarding</h3><p class="muted">…</p></section>`;
  const below = state.meanF1 != null && state.meanF1 < state.threshold;
  return html`<section class="card onboarding ${state.passed ? 'passed' : 'pending'}" aria-label="Onboarding">
    <h3>Onboarding <span class="chip ${state.passed ? 'passed-chip' : 'pending-chip'}">${state.passed ? 'passed' : 'not passed yet'}</span></h3>
    <p class="onboarding-figures"><span class="done"><strong>${state.done}</strong> of ${state.required} honeypot(s) done</span> ·
      <span class="mean ${below ? 'error' : ''}">mean F1 <strong>${figure(state.meanF1)}</strong></span>
      <span class="muted">(the bar: ${figure(state.threshold)})</span></p>
    <p class="muted small">${state.passed
      ? 'You passed: the queue hands you real work, with a honeypot now and then.'
      : `Until you pass, the queue hands you honeypots only: images with known answers, scored when you submit (you see the F1 and hints, never the answers). You pass with at least ${state.required} done and a mean F1 over your last ${state.required} of ${figure(state.threshold)} or more.`}</p>
    ${refused ? html`<p class="error onboarding-refused" role="alert"><strong>Onboarding not passed:</strong> ${refused}</p>` : ''}
  </section>`;
}
