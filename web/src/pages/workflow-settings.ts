import { html, LitElement } from 'lit';
import { api, ApiError, type Project, type Workflow } from '../api';
import { toast } from '../toast';

/** A number setting of quality control (docs/quality.md), with the server's range (WorkflowSettings.Apply). */
interface NumberSetting {
  readonly name: 'honeypotPercent' | 'onboardingImages' | 'overlap' | 'quorum' | 'agreementThreshold';
  readonly label: string;
  readonly help: string;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** The minimum itself is refused (quorum: above 0). */
  readonly above?: boolean;
  readonly rule: string;
}

export const qualitySettings: readonly NumberSetting[] = [
  { name: 'honeypotPercent', label: 'Honeypot %', min: 0, max: 100, integer: true, rule: 'must be a whole number between 0 and 100',
    help: 'The chance that an annotator\'s next image is a honeypot: a private copy of an image with ground truth, scored on submit with feedback (0: none).' },
  { name: 'onboardingImages', label: 'Onboarding images', min: 0, max: 1000, integer: true, rule: 'must be a whole number between 0 (no onboarding) and 1000',
    help: 'Honeypots each annotator passes first: until the mean F1 of their last this many reaches the bar, they get nothing else (0: no onboarding).' },
  { name: 'overlap', label: 'Overlap', min: 1, max: 10, integer: true, rule: 'must be a whole number between 1 (no consensus) and 10',
    help: 'Annotators who label each unassigned image independently; their copies are merged when the last is submitted (1: no consensus).' },
  { name: 'quorum', label: 'Quorum', min: 0, max: 1, integer: false, above: true, rule: 'is a share above 0 and at most 1',
    help: 'The share of those annotators who must draw a shape for the merge to keep it (0.5 of 3: 2 votes).' },
  { name: 'agreementThreshold', label: 'Agreement bar (F1)', min: 0, max: 1, integer: false, rule: 'is an F1 between 0 and 1',
    help: 'A honeypot passes at this F1; a merged image whose annotators agree less goes to adjudication instead of review.' },
];

/** Why a setting's text is refused, or null: the same ranges as the server's. */
export function settingProblem(s: NumberSetting, text: string): string | null {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (s.integer && !Number.isInteger(value)) || value > s.max || (s.above ? value <= s.min : value < s.min))
    return `${s.rule}${text.trim() === '' ? '' : `, not ${text.trim()}`}`;
  return null;
}

/**
 * The workflow settings form of My work (owners): leases, the review sample, the queue's priority, reject reasons,
 * and quality control (honeypots, onboarding, consensus). Quality fields are checked as they are typed, with the
 * server's ranges; a refusal from the server is shown beside the field it names (`workflow.<field>`), and in a toast.
 * Fires `saved` (detail: the project) when the server took the settings.
 */
export class WorkflowSettings extends LitElement {
  static override properties = { project: { attribute: false }, people: { attribute: false } };
  declare project: Project | undefined;
  /** Names offered for "full review for" (the annotators; those already listed are added). */
  declare people: readonly string[];
  /** The problem of each field, by its name: client checks and the server's refusal. */
  private errors: Record<string, string> = {};

  constructor() {
    super();
    this.people = [];
  }

  protected override createRenderRoot(): HTMLElement { return this; }

  private setError(name: string, problem: string | null): void {
    if ((this.errors[name] ?? null) === problem) return;
    const { [name]: _, ...rest } = this.errors;
    this.errors = problem ? { ...rest, [name]: problem } : rest;
    this.requestUpdate();
  }

  private check(s: NumberSetting, input: HTMLInputElement): void {
    const problem = settingProblem(s, input.value);
    input.setCustomValidity(problem ? `${s.label} ${problem}` : '');
    this.setError(s.name, problem);
  }

  private async save(form: HTMLFormElement): Promise<void> {
    if (!this.project) return;
    const data = new FormData(form);
    const number = (name: string) => Number(data.get(name));
    for (const s of qualitySettings) this.check(s, form.elements.namedItem(s.name) as HTMLInputElement);
    const bad = qualitySettings.find(s => this.errors[s.name]);
    if (bad) { toast(`Workflow settings not saved: ${bad.label} ${this.errors[bad.name]}`, true); return; }
    this.errors = {};
    try {
      const project = await api.updateWorkflow(this.project.id, {
        leaseSeconds: number('leaseSeconds'),
        reviewPercent: number('reviewPercent'),
        allowSelfReview: data.get('allowSelfReview') === 'on',
        maxPerAnnotator: number('maxPerAnnotator'), // 0 removes the cap
        priority: String(data.get('priority')),
        seed: number('seed'),
        reviewQueueAlert: number('reviewQueueAlert'),
        rejectReasons: String(data.get('rejectReasons') ?? '').split('\n').map(r => r.trim()).filter(Boolean),
        fullReviewFor: data.getAll('fullReviewFor').map(String),
        ...Object.fromEntries(qualitySettings.map(s => [s.name, number(s.name)])),
      });
      this.requestUpdate();
      toast('Workflow settings saved');
      this.dispatchEvent(new CustomEvent('saved', { detail: project }));
    } catch (err) {
      // A 400 names the field it refused (workflow.<name>): said beside it.
      for (const [key, messages] of Object.entries((err instanceof ApiError && err.problem?.errors) || {}))
        if (key.startsWith('workflow.')) this.setError(key.slice('workflow.'.length), messages[0] ?? 'refused');
      toast(`Workflow settings not saved: ${(err as Error).message}`, true);
    }
  }

  private error(name: string) {
    const problem = this.errors[name];
    return problem ? html`<span class="field-error" id="wf-${name}-error" role="alert">${problem}</span>` : '';
  }

  private numberSetting(s: NumberSetting, w: Workflow) {
    const problem = this.errors[s.name];
    return html`<div class="field">
      <label for="wf-${s.name}">${s.label}</label>
      <input id="wf-${s.name}" name=${s.name} type="number" required min=${s.min} max=${s.max} step=${s.integer ? '1' : 'any'}
        .value=${String(w[s.name])} aria-invalid=${problem ? 'true' : 'false'} aria-describedby="wf-${s.name}-help${problem ? ` wf-${s.name}-error` : ''}"
        @input=${(e: Event) => this.check(s, e.target as HTMLInputElement)} />
      <small class="muted" id="wf-${s.name}-help">${s.help}</small>
      ${this.error(s.name)}</div>`;
  }

  protected override render() {
    const w = this.project?.workflow;
    if (!w) return html``;
    return html`<form class="card workflow" aria-label="Workflow settings" @submit=${(e: SubmitEvent) => { e.preventDefault(); this.save(e.target as HTMLFormElement); }}>
      <h3>Workflow settings</h3>
      <div class="settings-grid">
        <label>Lease (seconds) <input name="leaseSeconds" type="number" min="10" required .value=${String(w.leaseSeconds)}
          title="How long an image taken from the queue stays yours without activity; the editor renews it while open" /></label>
        <label>Review % <input name="reviewPercent" type="number" min="0" max="100" required .value=${String(w.reviewPercent)}
          title="The share of submissions that go to review; the others are approved at once" /></label>
        <label>Max per annotator <input name="maxPerAnnotator" type="number" min="0" .value=${String(w.maxPerAnnotator ?? 0)}
          title="Images one annotator may take or be given (0: no cap)" /></label>
        <label>Priority <select name="priority" title="The order unassigned work leaves the queue in">
          ${[['upload', 'upload order'], ['random', 'random (seeded)'], ['confidence', 'lowest model confidence first']].map(([v, t]) => html`<option value=${v} ?selected=${w.priority === v}>${t}</option>`)}</select></label>
        <label>Seed <input name="seed" type="number" .value=${String(w.seed)} title="The random order's seed: the same seed, the same order" /></label>
        <label>Review queue alert <input name="reviewQueueAlert" type="number" min="0" .value=${String(w.reviewQueueAlert)}
          title="Reviewers are told when this many images wait for review (0: never)" /></label>
        <label class="check"><input name="allowSelfReview" type="checkbox" .checked=${w.allowSelfReview} /> Allow self-review <span class="muted">(reviewers may approve their own submissions)</span></label>
      </div>
      ${Object.entries(this.errors).filter(([name]) => name !== 'rejectReasons' && !qualitySettings.some(s => s.name === name))
        .map(([name, problem]) => html`<p class="field-error" role="alert">${name}: ${problem}</p>`)}
      <fieldset class="quality-settings"><legend>Honeypots, onboarding and consensus</legend>
        <div class="settings-grid">${qualitySettings.map(s => this.numberSetting(s, w))}</div></fieldset>
      <label>Reject reasons <span class="muted">(one per line)</span><br />
        <textarea name="rejectReasons" rows="4" required .value=${w.rejectReasons.join('\n')}></textarea></label>
      ${this.error('rejectReasons')}
      <p>Full review for <span class="muted">(every submission of these people is reviewed, whatever the review %)</span><br />
        ${[...new Set([...this.people, ...w.fullReviewFor])].map(name => html`<label class="pick"><input type="checkbox" name="fullReviewFor" value=${name}
          .checked=${w.fullReviewFor.includes(name)} /> ${name}</label>`)}</p>
      <button type="submit" class="primary">Save workflow settings</button>
    </form>`;
  }
}
customElements.define('vl-workflow-settings', WorkflowSettings);
