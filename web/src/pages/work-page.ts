import { html, render } from 'lit';
import { api, remaining, type HeldLease, type MyWork, type Onboarding, type Project, type WorkEvent, type WorkImage, type WorkOverview, type WorkStage } from '../api';
import { ackPrompt } from '../guidelines/ack-prompt';
import { guidelinesApi, unacknowledged, type Guidelines } from '../guidelines/guidelines-api';
import { onNotification } from '../live-events';
import { navigate } from '../navigation';
import { atLeast, currentAccount, projectRole, userMenu, withArticle, type Member, type Role } from '../session';
import { toast } from '../toast';
import { onboardingCard, onboardingRefusal, refusedFromHistory } from './onboarding';
import './workflow-settings';

/**
 * A project's work (issue #22), /projects/{id}/work. For everyone: Start labeling / Start reviewing / Adjudicate next
 * (the pull queue: the next image opens in the editor), their rework with the reviewer's reason, their assignments and
 * the leases they hold, and, when the project asks for onboarding, where they stand with it (docs/quality.md).
 * Reviewers and owners also see the team: images by stage, who holds what, each person's work. Owners release and
 * reassign leases, distribute work evenly, and change the workflow settings (workflow-settings.ts).
 */
export function workPage(root: HTMLElement, projectId: string): () => void {
  let project: Project | undefined;
  let mine: MyWork | undefined;
  let overview: WorkOverview | undefined;
  let members: Member[] = [];
  let role: Role | undefined;
  let error = '';
  let busy = false;
  /** "Nothing left for you to …": after a Start button, or when the editor's "… and next" came back empty (?done=). */
  let empty = (new URLSearchParams(location.search).get('done') as WorkStage | null) ?? null;
  /** The last rejection of each rework image (reason and comment), read once per image. */
  const rejections = new Map<string, WorkEvent | null>();
  /** File names of the images held (a lease names only the image). */
  const names = new Map<string, string>();
  /** The guidelines (a major version to acknowledge blocks the queue), and the Start the server refused for it (409). */
  let guidelines: Guidelines | undefined;
  let blocked: { version: string; stage: WorkStage } | undefined;
  /** Onboarding (projects that ask for it): where this user stands, and the queue's refusal (409) when it refused. */
  let onboarding: Onboarding | undefined;
  let refused = refusedFromHistory();
  const onboards = () => (project?.workflow.onboardingImages ?? 0) > 0 && atLeast(role, 'annotator');
  const loadOnboarding = async () => {
    if (!onboards()) { onboarding = undefined; return; }
    try { onboarding = await api.onboarding(projectId); if (onboarding.passed) refused = undefined; } catch { onboarding = undefined; }
    draw();
  };
  const readGuidelines = () => guidelinesApi.current(projectId).then(g => {
    guidelines = g;
    if (!g.mustAcknowledge) blocked = undefined; // acknowledged meanwhile (another tab)
    draw();
  }, () => {});

  const owner = () => atLeast(role, 'owner');
  const reviewer = () => atLeast(role, 'reviewer');
  const fail = (what: string) => (err: unknown) => { toast(`${what}: ${(err as Error).message}`, true); };

  const loadMine = async () => {
    mine = await api.myWork(projectId);
    role = mine.role;
    for (const list of [mine.rework, mine.assigned, mine.reviewAssigned]) for (const i of list) names.set(i.imageId, i.fileName);
    draw();
    await Promise.all([
      ...mine.rework.filter(i => !rejections.has(i.imageId)).slice(0, 50).map(async i => {
        rejections.set(i.imageId, null);
        try { rejections.set(i.imageId, (await api.imageWork(i.imageId)).state.lastRejection); } catch { rejections.delete(i.imageId); }
      }),
      ...mine.holding.filter(h => !names.has(h.imageId)).map(async h => {
        try { names.set(h.imageId, (await api.image(h.imageId)).fileName); } catch { /* shown by id */ }
      }),
    ]);
    draw();
  };
  const loadOverview = async () => {
    if (!reviewer()) { overview = undefined; return; }
    overview = await api.workOverview(projectId);
    for (const l of overview.leases) names.set(l.imageId, l.fileName);
    draw();
  };
  const reload = async () => {
    try { readGuidelines(); await loadMine(); await Promise.all([loadOverview(), loadOnboarding()]); }
    catch (err) { error = (err as Error).message; draw(); }
  };

  const start = async (stage: WorkStage) => {
    busy = true;
    draw();
    try {
      const lease = await api.queueNext(projectId, stage);
      if (lease) { navigate(`/images/${lease.imageId}`); return; }
      empty = stage;
      toast(`Nothing left for you to ${stage}`);
      await reload();
    } catch (err) {
      const version = unacknowledged(err), notOnboarded = onboardingRefusal(err);
      if (notOnboarded) {
        // Said on the onboarding card, which shows the figures it speaks of.
        refused = notOnboarded;
        toast('Onboarding not passed: no onboarding image is left for you (see Onboarding)', true);
        await loadOnboarding();
      } else if (version) {
        // Not a dead end: the prompt says what changed and leads to reading and acknowledging, then back here to start.
        blocked = { version, stage };
        toast(`Guidelines ${version} not acknowledged: read and acknowledge them, then ${stage === 'annotate' ? 'labeling' : stage === 'review' ? 'reviewing' : 'adjudicating'} starts`, true);
        await readGuidelines();
      } else fail(stage === 'annotate' ? 'Cannot start labeling' : `Cannot start ${stage === 'review' ? 'reviewing' : 'adjudicating'}`)(err);
    }
    finally { busy = false; draw(); }
  };

  const release = async (imageId: string, holder: string) => {
    try {
      await api.releaseLease(imageId);
      toast(holder === currentAccount().userName ? 'Lease given back' : `${holder}'s lease released: the image is back in the queue`);
      await reload();
    } catch (err) { fail('Not released')(err); }
  };

  const reassign = async (lease: HeldLease, to: string) => {
    if (!to) return;
    try {
      await api.assign(projectId, lease.stage, [lease.imageId], to);
      if (to !== lease.holder) await api.releaseLease(lease.imageId); // the new assignee can take it at once
      toast(`${lease.fileName} assigned to ${to} to ${lease.stage}${to !== lease.holder ? ` (${lease.holder}'s lease released)` : ''}`);
      await reload();
    } catch (err) { fail('Not reassigned')(err); await reload(); }
  };

  const distribute = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const stage = String(data.get('stage')) as WorkStage, count = Number(data.get('count'));
    const people = data.getAll('people').map(String);
    if (people.length === 0) { toast('Pick at least one person to distribute to', true); return; }
    try {
      const result = await api.distribute(projectId, stage, count, people);
      const given = Object.entries(result.assigned).filter(([, n]) => n > 0);
      const total = given.reduce((sum, [, n]) => sum + n, 0);
      toast(`Assigned ${total} image(s) to ${stage}${given.length ? `: ${given.map(([p, n]) => `${p} ${n}`).join(', ')}` : ''}` +
        (result.unassigned ? `; ${result.unassigned} found nobody (nothing left, or the per-annotator cap)` : ''), total === 0);
      await reload();
    } catch (err) { fail('Not distributed')(err); }
  };

  // --- rendering

  const imageLink = (i: { imageId: string; fileName?: string }) => html`<a href="/images/${i.imageId}">${i.fileName ?? names.get(i.imageId) ?? `image ${i.imageId.slice(0, 8)}`}</a>`;

  const list = (label: string, items: WorkImage[], row: (i: WorkImage) => unknown, none: string) => html`
    <section class="card work-list" aria-label=${label}><h3>${label} <span class="muted">${items.length}</span></h3>
      ${items.length ? html`<ul>${items.map(i => html`<li data-image=${i.imageId}>${row(i)}</li>`)}</ul>` : html`<p class="muted">${none}</p>`}
    </section>`;

  const reworkRow = (i: WorkImage) => {
    const r = rejections.get(i.imageId);
    return html`${imageLink(i)} <span class="muted">round ${i.reworkRounds}</span>
      ${r ? html`<div class="rejection">${r.actor} rejected it: <strong>${r.reason}</strong>${r.comment ? html` — “${r.comment}”` : ''}</div>`
        : rejections.has(i.imageId) ? html`<span class="muted">…</span>` : ''}`;
  };

  const mineCards = () => {
    if (!mine) return html`<p class="muted">Loading…</p>`;
    const canAnnotate = atLeast(role, 'annotator');
    const mustRead = blocked ?? (canAnnotate && guidelines?.mustAcknowledge && guidelines.current ? { version: guidelines.current.version, stage: undefined } : undefined);
    return html`
      ${mustRead ? ackPrompt(projectId, mustRead.version, guidelines, mustRead.stage, !!blocked) : ''}
      <section class="card work-start" aria-label="Start">
        <p class="counts"><strong>${mine.availableToAnnotate}</strong> image(s) to annotate for you${reviewer() ? html` · <strong>${mine.availableToReview}</strong> to review` : ''}
          <span class="muted">(you are ${withArticle(role)})</span>
          <button type="button" class="link" @click=${() => reload().then(() => toast('Work refreshed'))} title="Read the queues and the team's work again">Refresh</button></p>
        ${canAnnotate ? html`<button class="primary big" ?disabled=${busy} @click=${() => start('annotate')}
          title="Takes the next image from the queue (your rework first, then your assignments, then the rest) and opens it">Start labeling</button>` : ''}
        ${reviewer() ? html`<button class="primary big" ?disabled=${busy} @click=${() => start('review')}
          title="Takes the next submitted image to review (never your own) and opens it">Start reviewing</button>
          <button class="big" ?disabled=${busy} @click=${() => start('adjudicate')}
          title="Takes the next merged consensus image whose annotators disagreed (agreement below the bar) and opens it: compare their copies, correct the result, approve or reject it">Adjudicate next</button>` : ''}
        ${!canAnnotate ? html`<p class="muted">Viewers look; annotators and reviewers take work from the queue (an owner can change your role).</p>` : ''}
        ${empty ? html`<p class="notice" role="status">Nothing left for you to ${empty} right now: ${empty === 'adjudicate'
          ? 'no merged image whose annotators disagreed is waiting (or it is taken or assigned to someone else).'
          : `every image is taken, done${empty === 'review' ? ', your own' : ''} or assigned to someone else.`}</p>` : ''}
      </section>
      ${onboards() ? onboardingCard(onboarding, refused) : ''}
      ${mine.holding.length ? html`<section class="card work-list" aria-label="Holding"><h3>You hold <span class="muted">${mine.holding.length}</span></h3><ul>
        ${mine.holding.map(h => html`<li data-image=${h.imageId}>${imageLink(h)} <span class="chip">${h.stage}</span>${h.rework ? html` <span class="chip">rework</span>` : ''}
          <span class="lease-left" title="Your lease: nobody else is given it until it runs out">${remaining(h.leaseExpiresAt)} left</span>
          <button @click=${() => release(h.imageId, currentAccount().userName)}>Release</button></li>`)}</ul></section>` : ''}
      ${canAnnotate ? list('Rework', mine.rework, reworkRow, 'Nothing rejected: nothing to redo.') : ''}
      ${canAnnotate ? list('Assigned to me', mine.assigned, i => html`${imageLink(i)} <span class="muted">${i.status}</span>`, 'Nothing assigned to you to annotate.') : ''}
      ${reviewer() ? list('Assigned to me to review', mine.reviewAssigned, i => html`${imageLink(i)}`, 'Nothing assigned to you to review.') : ''}`;
  };

  const eligible = (stage: WorkStage) => members.filter(m => atLeast(m.role, stage === 'review' ? 'reviewer' : 'annotator'));

  const teamCards = () => {
    if (!overview) return '';
    const c = overview.counts;
    return html`
      <section class="card" aria-label="Team"><h3>Team</h3>
        <p class="stage-counts">${([['annotate', c.annotate], ['rework', c.rework], ['submitted', c.submitted], ['in review', c.inReview], ['approved', c.approved]] as const)
          .map(([name, n]) => html`<span class="chip">${name} <strong>${n}</strong></span>`)} <span class="muted">of ${c.total} images</span></p>
        <h4>Leases <span class="muted">${overview.leases.length}</span></h4>
        ${overview.leases.length ? html`<div class="table-scroll"><table class="work-table leases"><thead><tr><th>Image</th><th>Held by</th><th>Stage</th><th>Left</th>${owner() ? html`<th></th>` : ''}</tr></thead><tbody>
          ${overview.leases.map(l => html`<tr data-image=${l.imageId}><td>${imageLink(l)}</td><td>${l.holder}</td><td>${l.stage}</td><td class="lease-left">${remaining(l.expiresAt)}</td>
            ${owner() ? html`<td><button @click=${() => release(l.imageId, l.holder)} title="Take the lease back: the image returns to the queue">Release</button>
              <select aria-label="Reassign ${l.fileName}" title="Assign the image to someone else for this stage (and release the lease)"
                @change=${(e: Event) => { const sel = e.target as HTMLSelectElement; reassign(l, sel.value); sel.value = ''; }}>
                <option value="">Reassign to…</option>
                ${eligible(l.stage).map(m => html`<option value=${m.userName}>${m.userName}</option>`)}</select></td>` : ''}</tr>`)}
        </tbody></table></div>` : html`<p class="muted">Nobody holds an image now.</p>`}
        <h4>People</h4>
        <div class="table-scroll"><table class="work-table people"><thead><tr><th>Person</th><th>Role</th><th title="Assigned to annotate, not yet submitted">Assigned</th><th title="Assigned to review, waiting">To review</th>
          <th>Holding</th><th title="Images they submitted last">Submitted</th><th title="Of those, approved">Approved</th><th title="How often their submissions were rejected">Rework</th><th title="Approvals and rejections they made">Reviewed</th></tr></thead><tbody>
          ${overview.people.map(p => html`<tr data-user=${p.user}><td>${p.user}</td><td>${p.role}</td><td>${p.assignedAnnotate}</td><td>${p.assignedReview}</td><td>${p.holding}</td>
            <td>${p.submitted}</td><td>${p.approved}</td><td>${p.reworkRounds}</td><td>${p.reviewed}</td></tr>`)}
        </tbody></table></div>
      </section>
      ${owner() ? ownerCards() : ''}`;
  };

  let distributeStage: WorkStage = 'annotate';
  const ownerCards = () => {
    const w = project?.workflow;
    return html`
      <form class="card distribute" aria-label="Distribute work" @submit=${(e: SubmitEvent) => { e.preventDefault(); distribute(e.target as HTMLFormElement); }}>
        <h3>Distribute work</h3>
        <p>Distribute the next <input name="count" type="number" min="1" max="10000" value="10" required aria-label="How many images" class="narrow-number" />
          unassigned images to <select name="stage" aria-label="Stage" @change=${(e: Event) => { distributeStage = (e.target as HTMLSelectElement).value as WorkStage; draw(); }}>
            <option value="annotate">annotate</option><option value="review">review</option></select>
          evenly among these people (in the project's priority${w?.maxPerAnnotator ? `, at most ${w.maxPerAnnotator} per annotator` : ''}):</p>
        <p class="people-picks">${eligible(distributeStage).map(m => html`<label><input type="checkbox" name="people" value=${m.userName} /> ${m.userName} <span class="muted">${m.role}</span></label>`)}
          ${eligible(distributeStage).length === 0 ? html`<span class="muted">Nobody in this project may take ${distributeStage} work yet.</span>` : ''}</p>
        <button type="submit">Distribute</button>
      </form>
      ${w ? html`<vl-workflow-settings .project=${project} .people=${eligible('annotate').map(m => m.userName)}
        @saved=${(e: CustomEvent<Project>) => { project = e.detail; reload(); }}></vl-workflow-settings>` : ''}`;
  };

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><strong>My work</strong><a href="/projects/${projectId}/guidelines" title="The labeling guidelines: what each label means, with examples">Guidelines${guidelines?.current ? ` ${guidelines.current.version}` : ''}</a>${reviewer() ? html`<a class="nav-quality" href="/projects/${projectId}/quality" title="Each annotator's precision, recall and F1 against ground truth">Quality</a>` : ''}${userMenu()}</header>
    <main class="page work-page">
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <div class="work-columns ${overview ? '' : 'single'}">
        <div>${mineCards()}</div>
        <div>${teamCards()}</div>
      </div>
    </main>`, root);

  draw();
  api.project(projectId).then(p => { project = p; draw(); loadOnboarding(); }).catch(err => { error = (err as Error).message; draw(); });
  api.members(projectId).then(async m => { members = m; role ??= await projectRole(projectId, m); draw(); loadOnboarding(); }).catch(() => {});
  reload();
  // Back from acknowledging the guidelines (?start=annotate|review): the Start that was refused runs again.
  const retry = new URLSearchParams(location.search).get('start');
  if (retry === 'annotate' || retry === 'review' || retry === 'adjudicate') {
    history.replaceState(null, '', `/projects/${projectId}/work`);
    start(retry);
  }
  // Rejections, assignments and comments for this user arrive as notifications: what they change is read again.
  const offNotification = onNotification(n => { if (n.projectId === projectId) reload(); });
  // Leases count down; the lists are read again now and then (others take and finish work meanwhile).
  let ticks = 0;
  const ticker = window.setInterval(() => {
    if (++ticks % 30 === 0) { reload(); return; }
    if ((mine?.holding.length ?? 0) > 0 || (overview?.leases.length ?? 0) > 0) draw();
  }, 1000);
  return () => { offNotification(); window.clearInterval(ticker); };
}
