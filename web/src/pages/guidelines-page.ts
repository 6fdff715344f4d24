import { html, nothing, render } from 'lit';
import { api, utc, type Label, type Project } from '../api';
import { labelCard, cardOf } from '../guidelines/card';
import {
  draftFrom, drafts, guidelinesApi, guidelinesOf, mergePicked,
  type Draft, type DraftCard, type DraftExample, type Guideline, type Guidelines,
} from '../guidelines/guidelines-api';
import { markdown } from '../guidelines/markdown';
import { navigate } from '../navigation';
import { atLeast, projectRole, userMenu, type Role } from '../session';
import { toast } from '../toast';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A project's labeling guidelines (docs/guidelines.md), /projects/{id}/guidelines: the current version's text
 * (Markdown, sanitized), the label cards with their example shapes cropped from the images, every version with its
 * changelog (?version=X.Y reads an older one), and "I have read version X — acknowledge" when a major version waits
 * for the reader. Coming from a refused Start (?then=annotate|review|adjudicate), acknowledging goes back to My work and starts.
 * Owners write the next version here: the text with a live preview and uploaded images, the changelog, major or not,
 * and each label's card (examples picked in the editor wait in a draft in this browser).
 */
export function guidelinesPage(root: HTMLElement, projectId: string): () => void {
  const params = new URLSearchParams(location.search);
  const then = (['annotate', 'review', 'adjudicate'] as const).find(stage => stage === params.get('then'));
  let project: Project | undefined;
  let role: Role | undefined;
  let g: Guidelines | undefined;
  /** The version on screen: the current one, or an older one picked in the list. */
  let shown: Guideline | null = null;
  let wanted = params.get('version');
  let error = '';
  let busy = false;
  let editing = false;
  let draft: Draft | undefined;
  let publishing = false;

  const owner = () => atLeast(role, 'owner');
  const labels = (): Label[] => project?.labels ?? [];
  const isCurrent = () => !!shown && shown.version === g?.current?.version;

  const load = async (fresh = true) => {
    try {
      g = await guidelinesOf(projectId, fresh);
      shown = g.current ?? null;
      if (wanted && wanted !== g.current?.version) {
        try { shown = await guidelinesApi.version(projectId, wanted); }
        catch (err) { toast(`Version ${wanted}: ${(err as Error).message}`, true); wanted = null; }
      }
      error = '';
    } catch (err) { error = `Guidelines not read: ${(err as Error).message}`; }
    draw();
  };

  const read = async (version: string) => {
    if (version === shown?.version) return;
    try {
      shown = version === g?.current?.version ? g.current : await guidelinesApi.version(projectId, version);
      wanted = version === g?.current?.version ? null : version;
      history.pushState(null, '', `/projects/${projectId}/guidelines${wanted ? `?version=${encodeURIComponent(wanted)}` : ''}`);
      toast(`Reading version ${version}${wanted ? ' (not the current one)' : ''}`);
      draw();
      root.querySelector('article.markdown')?.scrollIntoView({ block: 'start' });
    } catch (err) { toast(`Version ${version} not read: ${(err as Error).message}`, true); }
  };

  const acknowledge = async () => {
    const version = g?.current?.version;
    if (!version || busy) return;
    busy = true;
    draw();
    try {
      g = await guidelinesApi.acknowledge(projectId, version);
      guidelinesOf(projectId, true).catch(() => {}); // the editor's panel reads them again too
      if (then) {
        toast(`Version ${version} acknowledged: starting to ${then === 'annotate' ? 'label' : then}`);
        navigate(`/projects/${projectId}/work?start=${then}`);
        return;
      }
      toast(`Version ${version} acknowledged: the queue gives you work again`);
    } catch (err) { toast(`Not acknowledged: ${(err as Error).message}`, true); }
    finally { busy = false; draw(); }
  };

  // --- the owner's editor

  const openEditor = () => {
    draft = drafts.load(projectId) ?? draftFrom(g?.current, labels().map(l => l.id));
    for (const l of labels()) draft.cards[l.id] ??= { description: '', positive: [], negative: [] };
    const picked = drafts.picked(projectId);
    if (picked.length) {
      const added = mergePicked(draft, picked);
      drafts.save(projectId, draft);
      drafts.clearPicked(projectId);
      toast(`${picked.length} example(s) picked in the editor are in your draft${added < picked.length ? ` (${picked.length - added} moved or already there)` : ''}`);
    }
    editing = true;
    draw();
  };
  const changed = () => { if (draft) drafts.save(projectId, draft); draw(); };

  const discard = () => {
    drafts.clear(projectId);
    draft = draftFrom(g?.current, labels().map(l => l.id));
    toast('Draft discarded: the editor shows the current version again');
    draw();
  };

  const nextVersion = () => {
    const c = g?.current;
    if (!c) return '1.0';
    return draft?.major ? `${c.major + 1}.0` : `${c.major}.${c.minor + 1}`;
  };

  const uploadImage = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file || !draft) return;
    const source = root.querySelector<HTMLTextAreaElement>('textarea.markdown-source');
    toast(`Uploading ${file.name}…`);
    try {
      const image = await guidelinesApi.uploadImage(projectId, file);
      const alt = file.name.replace(/\.[^.]+$/, '').replace(/[[\]\\]/g, '');
      const link = `![${alt}](${image.url})`;
      const at = source?.selectionStart ?? draft.markdown.length, end = source?.selectionEnd ?? at;
      const before = draft.markdown.slice(0, at), after = draft.markdown.slice(end);
      const block = `${before && !before.endsWith('\n') ? '\n\n' : ''}${link}\n`;
      draft.markdown = before + block + after;
      changed();
      if (source) { source.value = draft.markdown; source.focus(); source.setSelectionRange(at + block.length, at + block.length); }
      toast(`${file.name} uploaded (${image.width}×${image.height}) and linked in the text`);
    } catch (err) { toast(`${file.name} not uploaded: ${(err as Error).message}`, true); }
    finally { input.value = ''; }
  };

  const addExamples = (labelId: string, input: HTMLInputElement, positive: boolean) => {
    const card = draft?.cards[labelId];
    if (!card) return;
    const ids = input.value.split(/[\s,;]+/).filter(Boolean);
    const bad = ids.filter(id => !uuid.test(id));
    if (!ids.length) { toast('Paste an annotation id first (the editor\'s Guidelines panel adds the selected shape for you)', true); return; }
    if (bad.length) { toast(`Not an annotation id: ${bad.join(', ')}`, true); return; }
    const list = positive ? card.positive : card.negative, other = positive ? card.negative : card.positive;
    let added = 0;
    for (const id of ids.map(x => x.toLowerCase())) {
      const i = other.findIndex(e => e.annotationId === id);
      if (i >= 0) other.splice(i, 1);
      if (!list.some(e => e.annotationId === id)) { list.push({ annotationId: id }); added++; }
    }
    input.value = '';
    changed();
    toast(`${added} ${positive ? 'positive' : 'negative'} example(s) added${added < ids.length ? `; ${ids.length - added} already there` : ''}`);
  };

  const removeExample = (labelId: string, positive: boolean, e: DraftExample) => {
    const card = draft?.cards[labelId];
    if (!card) return;
    if (positive) card.positive = card.positive.filter(x => x !== e); else card.negative = card.negative.filter(x => x !== e);
    changed();
    toast(`Example ${e.annotationId.slice(0, 8)} removed from the card`);
  };

  const publish = async () => {
    if (!draft || publishing) return;
    if (!draft.markdown.trim()) { toast('Not published: the guidelines need text', true); return; }
    if (!draft.changelog.trim()) { toast('Not published: say what changed in the changelog (people read it before they acknowledge)', true); return; }
    const cards = Object.entries(draft.cards)
      .filter(([id, c]) => labels().some(l => l.id === id) && (c.description.trim() || c.positive.length || c.negative.length))
      .map(([labelId, c]) => ({ labelId, description: c.description, positive: c.positive.map(e => e.annotationId), negative: c.negative.map(e => e.annotationId) }));
    publishing = true;
    draw();
    try {
      const published = await guidelinesApi.publish(projectId, { markdown: draft.markdown, changelog: draft.changelog, major: draft.major, cards });
      drafts.clear(projectId);
      draft = undefined;
      editing = false;
      wanted = null;
      history.replaceState(null, '', `/projects/${projectId}/guidelines`);
      toast(`Published version ${published.version}${published.minor === 0 ? ': everyone must acknowledge it before they get more work' : ''}`);
      await load();
      window.scrollTo({ top: 0 });
    } catch (err) { toast(`Not published: ${(err as Error).message}`, true); }
    finally { publishing = false; draw(); }
  };

  // --- rendering

  const versionsList = () => html`<nav class="card guidelines-versions" aria-label="Versions">
    <h3>Versions <span class="muted">${g?.versions.length ?? ''}</span></h3>
    ${g?.versions.length ? html`<ol>${g.versions.map(v => html`<li data-version=${v.version}>
        <button type="button" class="version" aria-current=${String(v.version === shown?.version)} title="Read version ${v.version}" @click=${() => read(v.version)}>
          <strong>${v.version}</strong>${v.version === g?.current?.version ? html` <span class="chip">current</span>` : nothing}
          <span class="muted">${v.publishedBy} · ${utc(v.publishedAt).toLocaleDateString()}</span>
          <div class="changelog-text">${v.changelog}</div></button></li>`)}</ol>`
      : html`<p class="muted">${g ? 'Nothing published yet.' : 'Loading…'}</p>`}
  </nav>`;

  const ackBar = () => {
    if (!g?.current) return nothing;
    if (!isCurrent()) return html`<p class="card notice" role="note">You are reading version ${shown?.version}, not the current one.
      <button type="button" class="link" @click=${() => read(g!.current!.version)}>Read the current version ${g.current.version}</button></p>`;
    if (!g.mustAcknowledge)
      return g.acknowledgedMajor != null ? html`<p class="card ack-bar done muted" role="note">You have acknowledged version ${g.acknowledgedMajor}.x.</p>` : nothing;
    const v = g.current.version;
    return html`<div class="card notice ack-bar" role="note" aria-label="Acknowledge">
      <span>Version <strong>${v}</strong> is a major change: read it (the text and the label cards below), then acknowledge it${then ? `: ${then === 'annotate' ? 'labeling' : then === 'review' ? 'reviewing' : 'adjudicating'} starts right after` : ' before your next image'}.</span>
      <button type="button" class="primary" ?disabled=${busy} @click=${acknowledge}>I have read version ${v} — acknowledge</button></div>`;
  };

  const reading = () => {
    if (!g) return html`<p class="muted">Loading…</p>`;
    if (!shown) return html`<section class="card"><p>No guidelines are published for this project yet.${owner() ? ' Write the first version: it is 1.0, and everyone acknowledges it before their next image.' : ' An owner writes them here.'}</p></section>`;
    const cardLabels = labels().filter(l => cardOf(shown!.cards, l.id));
    return html`
      ${ackBar()}
      <section class="card" aria-label="Guidelines text">
        <p class="muted">Version <strong class="shown-version">${shown.version}</strong> by ${shown.publishedBy}, ${utc(shown.publishedAt).toLocaleString()} — ${shown.changelog}</p>
        <article class="markdown">${markdown(shown.markdown)}</article>
      </section>
      <section class="card" aria-label="Label cards"><h3>Label cards</h3>
        ${cardLabels.length ? html`<div class="label-cards">${cardLabels.map(l => labelCard(l, cardOf(shown!.cards, l.id)))}</div>`
          : html`<p class="muted">This version has no label cards.</p>`}
      </section>`;
  };

  const exampleList = (labelId: string, card: DraftCard, positive: boolean) => {
    const list = positive ? card.positive : card.negative;
    return html`<div class="examples ${positive ? 'positive' : 'negative'}" aria-label="${positive ? 'Positive' : 'Negative'} examples">
      <span class="examples-head">${positive ? '✓ is' : '✗ is not'}</span>
      ${list.length ? list.map(e => html`<span class="example-edit"><vl-example-crop .example=${e} ?positive=${positive} size="64"></vl-example-crop>
          <button type="button" class="icon" title="Remove this example" aria-label="Remove example ${e.annotationId}" @click=${() => removeExample(labelId, positive, e)}>✕</button></span>`)
        : html`<span class="muted">none</span>`}</div>`;
  };

  const cardEditor = (l: Label) => {
    const card = draft!.cards[l.id];
    return html`<fieldset data-label=${l.id}><legend><span class="swatch" style="background:${l.color}"></span> ${l.name}</legend>
      <textarea rows="3" maxlength="5000" aria-label="Description of ${l.name}" placeholder="What ${l.name} is, and what it is not"
        .value=${card.description} @input=${(e: Event) => { card.description = (e.target as HTMLTextAreaElement).value; changed(); }}></textarea>
      ${exampleList(l.id, card, true)}
      ${exampleList(l.id, card, false)}
      <form class="add-example" @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        const form = e.target as HTMLFormElement;
        addExamples(l.id, form.querySelector('input')!, (e.submitter as HTMLButtonElement | null)?.value !== 'negative');
      }}>
        <input aria-label="Annotation ids for ${l.name}" placeholder="annotation id(s)" />
        <button type="submit" value="positive" title="Add as examples of what ${l.name} is">+ is</button>
        <button type="submit" value="negative" title="Add as examples of what ${l.name} is not">+ is not</button>
      </form>
    </fieldset>`;
  };

  const editor = () => {
    if (!draft) return nothing;
    const d = draft, next = nextVersion(), current = g?.current;
    return html`<section class="card guideline-editor" aria-label="Write a new version">
      <h3>Write version ${next} <span class="muted">(your draft is kept in this browser until you publish or discard it)</span></h3>
      <div class="split">
        <label>Text (Markdown)<textarea class="markdown-source" aria-label="Guidelines text (Markdown)" maxlength="200000"
          .value=${d.markdown} @input=${(e: Event) => { d.markdown = (e.target as HTMLTextAreaElement).value; changed(); }}></textarea></label>
        <div><span>Preview</span><div class="preview markdown" aria-label="Preview">${d.markdown.trim() ? markdown(d.markdown) : html`<p class="muted">The text shows here as readers will see it.</p>`}</div></div>
      </div>
      <div class="row">
        <label>Add an image <input type="file" accept="image/jpeg,image/png,image/webp" aria-label="Upload an image"
          @change=${(e: Event) => uploadImage(e.target as HTMLInputElement)} /></label>
        <span class="muted">JPEG, PNG or WebP up to 10 MB: uploaded, then linked at the cursor.</span>
      </div>
      <h4>Label cards</h4>
      <p class="muted">Examples: select a shape in the editor and use its Guidelines panel's "Use as positive / negative example" (it lands in this draft), or paste annotation ids.</p>
      <div class="card-edits">${labels().map(cardEditor)}</div>
      <label>Changelog <span class="muted">(what changed: readers see it before they acknowledge)</span>
        <textarea rows="2" maxlength="2000" aria-label="Changelog" .value=${d.changelog}
          @input=${(e: Event) => { d.changelog = (e.target as HTMLTextAreaElement).value; changed(); }}></textarea></label>
      <div class="row">
        ${current ? html`<label class="major"><input type="checkbox" aria-label="Major change" .checked=${d.major}
            @change=${(e: Event) => { d.major = (e.target as HTMLInputElement).checked; changed(); }} />
          <span><strong>Major change</strong> (${current.major + 1}.0): everyone must read and acknowledge it before the queue gives them more work.
            Leave it off for a clarification (${current.major}.${current.minor + 1}), which nobody has to acknowledge.</span></label>`
          : html`<span class="muted">The first version is 1.0: everyone acknowledges it before their next image.</span>`}
      </div>
      <div class="actions">
        <button type="button" class="primary" ?disabled=${publishing} @click=${publish}>Publish version ${next}</button>
        <button type="button" @click=${discard} title="Forget this draft and start again from the current version">Discard draft</button>
        <button type="button" @click=${() => { editing = false; draw(); toast('Editor closed: your draft is kept'); }}>Close</button>
      </div>
    </section>`;
  };

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a>
      <a class="nav-work" href="/projects/${projectId}/work">My work</a><strong>Guidelines${g?.current ? ` ${g.current.version}` : ''}</strong>${userMenu()}</header>
    <main class="page guidelines">
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
      ${owner() && !editing ? html`<p><button type="button" @click=${openEditor}>${g?.current ? 'Write a new version' : 'Write the first version'}</button>
        ${drafts.load(projectId) || drafts.picked(projectId).length ? html`<span class="muted">You have a draft in this browser.</span>` : nothing}</p>` : nothing}
      <div class="guidelines-page ${editing ? 'editing' : ''}">
        ${editing ? editor() : html`${versionsList()}<div>${reading()}</div>`}
      </div>
    </main>`, root);

  draw();
  Promise.all([api.project(projectId), projectRole(projectId).catch(() => undefined)])
    .then(([p, r]) => {
      project = p;
      role = r;
      draw();
      // Examples picked in the editor, or ?edit: straight to the owner's editor.
      if (owner() && (params.has('edit') || drafts.picked(projectId).length)) loaded.then(openEditor);
    })
    .catch(err => { error = (err as Error).message; draw(); });
  const loaded = load();
  return () => {};
}
