import { html, render } from 'lit';
import { api, ApiError, type ComparisonOutput, type PairToJudge } from '../api';
import { userMenu } from '../session';
import { toast } from '../toast';
import { reasonName } from './comparison-parts';

const reasons = ['missedObjects', 'falsePositives', 'looseBoxes', 'wrongLabels'] as const;
const reasonKeys: Record<string, (typeof reasons)[number]> = { q: 'missedObjects', w: 'falsePositives', e: 'looseBoxes', r: 'wrongLabels' };
const choices = [
  { choice: 'A', key: '1', text: 'A is better' },
  { choice: 'B', key: '2', text: 'B is better' },
  { choice: 'tie', key: '3', text: 'Tie' },
  { choice: 'bothBad', key: '4', text: 'Both bad' },
] as const;

/**
 * Judging a comparison (reviewers), /projects/{id}/comparisons/{cid}/judge: the same image twice, side by side, with two
 * models' outputs as A and B in the order the server drew at random (the page never learns which model is which). Pick
 * A, B, tie or both bad (1–4), with reason tags (Q, W, E, R) saying what was wrong with the output that lost, or with
 * both; the next pair comes at once. The leaderboard is on the comparisons page.
 */
export function judgePage(root: HTMLElement, projectId: string, comparisonId: string): () => void {
  let pair: PairToJudge | undefined;
  let done = false;
  let busy = false;
  let error = '';
  let disposed = false;
  const picked = new Set<string>();
  const photo = new Image();
  const canvases = [document.createElement('canvas'), document.createElement('canvas')];
  canvases.forEach((c, i) => { c.className = `judge-canvas side-${'ab'[i]}`; c.setAttribute('role', 'img'); c.setAttribute('aria-label', `Output ${'AB'[i]}`); });

  let loaded = false; // the pair's photo is drawn: until then nothing can be judged (the canvases would show the last pair)
  const next = async (say?: string) => {
    try {
      pair = await api.nextPair(projectId, comparisonId);
      done = !pair;
      picked.clear();
      error = '';
      loaded = false;
      canvases.forEach(c => c.getContext('2d')?.clearRect(0, 0, c.width, c.height));
      if (say) toast(say);
      if (pair) {
        const id = pair.pairId;
        photo.onload = () => { if (pair?.pairId === id) { loaded = true; draw(); paint(); } };
        photo.onerror = () => { if (pair?.pairId === id) { error = `The image ${pair.fileName} could not be loaded; reload the page to try again.`; draw(); } };
        photo.src = `/api/images/${pair.imageId}/original`;
      }
    } catch (err) {
      error = (err as Error).message;
      toast(`No pair to judge: ${error}`, true);
    }
    draw();
    paint();
  };

  const judge = async (choice: string) => {
    if (!pair || busy || !loaded) return;
    busy = true;
    draw();
    try {
      const given = choice === 'tie' ? [] : [...picked];
      await api.judge(projectId, comparisonId, pair.pairId, choice, given);
      await next(`Judged: ${choices.find(c => c.choice === choice)?.text}${given.length ? ` (${given.map(reasonName).join(', ')})` : ''}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) await next('You had already judged that pair (in another tab?): here is the next one');
      else toast(`Not judged: ${(err as Error).message}`, true);
    } finally {
      busy = false;
      draw();
    }
  };

  const toggle = (reason: string) => { if (picked.has(reason)) picked.delete(reason); else picked.add(reason); draw(); };

  const onKey = (e: KeyboardEvent) => {
    // A held key repeats: it must not judge the pairs that come after.
    if (e.repeat || e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement | null)?.closest('input, textarea, select')) return;
    const c = choices.find(x => x.key === e.key);
    if (c) { e.preventDefault(); judge(c.choice); return; }
    const r = reasonKeys[e.key.toLowerCase()];
    if (r) { e.preventDefault(); toggle(r); }
  };
  window.addEventListener('keydown', onKey);

  /** The photo fitted to each canvas, with that side's outputs: boxes, or masks by their outlines; label and score beside. */
  const paint = () => {
    if (!pair || !photo.complete || !photo.naturalWidth) return;
    const sides: ComparisonOutput[][] = [pair.a, pair.b];
    canvases.forEach((canvas, i) => {
      const width = canvas.clientWidth || 600, height = canvas.clientHeight || 420;
      const dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      const ctx = canvas.getContext('2d')!;
      const scale = Math.min(width / pair!.width, height / pair!.height);
      const ox = (width - pair!.width * scale) / 2, oy = (height - pair!.height * scale) / 2;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.drawImage(photo, ox, oy, pair!.width * scale, pair!.height * scale);
      ctx.lineWidth = 2;
      ctx.font = '12px system-ui, sans-serif';
      for (const o of sides[i]) {
        const g = o.geometry as { x?: number; y?: number; width?: number; height?: number; polygons?: number[][] };
        ctx.strokeStyle = ctx.fillStyle = i === 0 ? '#4c8dff' : '#ffb020';
        let lx = 0, ly = 0;
        if (o.kind === 'box' && g.x != null) {
          ctx.strokeRect(ox + g.x * scale, oy + g.y! * scale, g.width! * scale, g.height! * scale);
          [lx, ly] = [ox + g.x * scale, oy + g.y! * scale];
        } else for (const ring of g.polygons ?? []) {
          ctx.beginPath();
          for (let k = 0; k < ring.length; k += 2) ctx.lineTo(ox + ring[k] * scale, oy + ring[k + 1] * scale);
          ctx.closePath();
          ctx.stroke();
          if (!lx) [lx, ly] = [ox + ring[0] * scale, oy + ring[1] * scale];
        }
        ctx.fillText(`${o.label} ${o.score.toFixed(2)}`, lx + 2, Math.max(12, ly - 3));
      }
    });
  };
  const resize = () => paint();
  window.addEventListener('resize', resize);

  const side = (i: number) => {
    const outputs = i === 0 ? pair!.a : pair!.b;
    return html`<section class="card judge-side" aria-label="Output ${'AB'[i]}">
      <h3>${'AB'[i]} <span class="muted">${outputs.length} object${outputs.length === 1 ? '' : 's'}</span></h3>${canvases[i]}</section>`;
  };

  const draw = () => {
    if (disposed) return;
    render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">Project</a><a href="/projects/${projectId}/comparisons?comparison=${comparisonId}">Comparison</a><strong>Judge</strong>${userMenu()}</header>
    <main class="page judge-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      ${done ? html`<section class="card judge-done"><p><strong>You have judged every pair of this comparison.</strong></p>
        <p><a class="button primary" href="/projects/${projectId}/comparisons?comparison=${comparisonId}">See the leaderboard →</a></p></section>` : ''}
      ${pair ? html`
        <p class="muted judge-progress" role="status">${pair.fileName} — judged ${pair.judged}, ${pair.remaining} left (this one included). Which output is better?</p>
        <div class="judge-sides">${side(0)}${side(1)}</div>
        <section class="card judge-controls" aria-label="Your judgement">
          <div class="reasons" role="group" aria-label="Reasons">${reasons.map((r, i) => html`<button type="button" class="reason ${picked.has(r) ? 'on' : ''}" aria-pressed=${picked.has(r)}
            title="What was wrong with the output that lost (or with both); key ${'QWER'[i]}" @click=${() => toggle(r)}>${reasonName(r)} <kbd>${'QWER'[i]}</kbd></button>`)}</div>
          <div class="choices">${choices.map(c => html`<button type="button" class="choice ${c.choice === 'A' || c.choice === 'B' ? 'primary' : ''}" data-choice=${c.choice}
            ?disabled=${busy || !loaded} @click=${() => judge(c.choice)}>${c.text} <kbd>${c.key}</kbd></button>`)}</div>
          <p class="muted small">Keys: 1 A, 2 B, 3 tie, 4 both bad; Q W E R toggle the reasons (a tie takes none). The order of A and B is random for each pair.</p>
        </section>` : !done && !error ? html`<p class="muted">loading…</p>` : ''}
    </main>`, root);
  };

  draw();
  next();
  return () => {
    disposed = true;
    window.removeEventListener('keydown', onKey);
    window.removeEventListener('resize', resize);
  };
}
