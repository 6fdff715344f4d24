import { html } from 'lit';
import type { ComparisonReport, LeaderboardRow, Model } from '../api';

/** The start form's state (the comparisons page owns it). */
export interface StartForm {
  modelIds: Set<string>;
  sampleSize: number;
  sample: 'random' | 'disputed';
  confidence: number;
  name: string;
  busy: boolean;
}

const percent = (v: number | null | undefined) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(2);

/** Owners: which models, how many images, drawn how. */
export function startForm(form: StartForm, models: Model[], changed: () => void, start: () => void) {
  const toggle = (id: string, on: boolean) => { if (on) form.modelIds.add(id); else form.modelIds.delete(id); changed(); };
  return html`<section class="card comparison-start" aria-label="Start a comparison">
    <h3>Start a comparison</h3>
    ${models.length < 2 ? html`<p class="muted">Upload at least two models (on the project page) to compare them.</p>` : html`
    <fieldset class="model-picks"><legend>Models <span class="muted">(2 to 8)</span></legend>
      ${models.map(m => html`<label><input type="checkbox" .checked=${form.modelIds.has(m.id)} @change=${(e: Event) => toggle(m.id, (e.target as HTMLInputElement).checked)} />
        ${m.name} <span class="muted">${m.task}</span></label>`)}
    </fieldset>
    <div class="row">
      <label title="How many images to judge the models on">Images <input type="number" min="1" max="500" .value=${String(form.sampleSize)}
        @change=${(e: Event) => { form.sampleSize = Number((e.target as HTMLInputElement).value); changed(); }} /></label>
      <label title="Random: drawn at random. Most disputed: the models run on three times as many and the images they disagree on most are kept">Sample
        <select aria-label="Sample" @change=${(e: Event) => { form.sample = (e.target as HTMLSelectElement).value as StartForm['sample']; changed(); }}>
          <option value="random" ?selected=${form.sample === 'random'}>random</option>
          <option value="disputed" ?selected=${form.sample === 'disputed'}>most disputed</option></select></label>
      <label title="The models' confidence threshold">Confidence <input type="number" min="0.01" max="0.99" step="0.05" .value=${String(form.confidence)}
        @change=${(e: Event) => { form.confidence = Number((e.target as HTMLInputElement).value); changed(); }} /></label>
      <label>Name <input type="text" placeholder="A vs B" maxlength="200" .value=${form.name} @input=${(e: Event) => { form.name = (e.target as HTMLInputElement).value; }} /></label>
      <button type="button" class="primary start-comparison" ?disabled=${form.busy || form.modelIds.size < 2} @click=${start}>
        ${form.busy ? 'Starting…' : 'Start comparison'}</button>
    </div>`}
  </section>`;
}

/** Each model's standing: judgements, win rate, Bradley–Terry score with its 95% interval, the reasons against it, ground truth. */
export function leaderboardTable(rows: LeaderboardRow[]) {
  return html`<section class="card leaderboard-card" aria-label="Leaderboard">
    <table class="leaderboard">
      <thead><tr><th>#</th><th>Model</th><th title="Pairs judged">Games</th><th title="Wins / losses / ties / both bad">W / L / T / ✗</th>
        <th title="(wins + ½ ties + ½ both bad) ÷ games">Win rate</th><th title="Bradley–Terry score (log strength, the models' mean 0) and its 95% bootstrap interval">Score</th>
        <th title="Precision, recall and F1 against the ground truth (IoU ≥ 0.5, same label)">GT P / R / F1</th><th title="Reasons given when it lost, or when both were bad">Reasons against</th></tr></thead>
      <tbody>${rows.map(r => html`<tr data-model=${r.modelId}>
        <td>${r.rank}</td><td>${r.name}</td><td>${r.games}</td><td class="wltb">${r.wins} / ${r.losses} / ${r.ties} / ${r.bothBad}</td>
        <td class="win-rate">${percent(r.winRate)}</td>
        <td class="bt-score">${signed(r.score)} <span class="muted">[${signed(r.low)}, ${signed(r.high)}]</span></td>
        <td>${r.groundTruth ? html`${percent(r.groundTruth.precision)} / ${percent(r.groundTruth.recall)} / <strong>${percent(r.groundTruth.f1)}</strong>
          <span class="muted">(${r.groundTruth.images} img)</span>` : html`<span class="muted">no ground truth</span>`}</td>
        <td>${Object.entries(r.reasonsAgainst).map(([k, n]) => html`<span class="chip">${reasonName(k)} ${n}</span>`)}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

export const reasonName = (tag: string) => ({ missedObjects: 'missed objects', falsePositives: 'false positives', looseBoxes: 'loose boxes', wrongLabels: 'wrong labels' } as Record<string, string>)[tag] ?? tag;

/** The latest judgements (of one model, when its bar was clicked), each opening its image in the editor. */
export function judgementsTable(report: ComparisonReport, modelFilter: string, clear: () => void) {
  const name = (id: string) => report.comparison.models.find(m => m.modelId === id)?.name ?? id;
  const shown = report.recent.filter(j => !modelFilter || j.modelA === modelFilter || j.modelB === modelFilter);
  return html`<section class="card judgements-card" aria-label="Judgements">
    <h3>Latest judgements ${modelFilter ? html`<span class="muted">with ${name(modelFilter)}</span> <button type="button" class="link" @click=${clear}>all models</button>` : ''}</h3>
    ${shown.length === 0 ? html`<p class="muted">No judgement yet.</p>` : html`<table class="judgements">
      <thead><tr><th>Image</th><th>A</th><th>B</th><th>Choice</th><th>Reasons</th><th>Judge</th><th>When</th></tr></thead>
      <tbody>${shown.map(j => html`<tr>
        <td><a href="/images/${j.imageId}" title="Open the image">${j.fileName}</a></td><td>${name(j.modelA)}</td><td>${name(j.modelB)}</td>
        <td class="choice">${j.choice === 'A' ? html`<strong>${name(j.modelA)}</strong>` : j.choice === 'B' ? html`<strong>${name(j.modelB)}</strong>` : j.choice === 'tie' ? 'tie' : 'both bad'}</td>
        <td>${j.reasons.map(reasonName).join(', ')}</td><td>${j.judge}</td><td>${new Date(j.at).toLocaleString()}</td></tr>`)}</tbody>
    </table>`}
  </section>`;
}
