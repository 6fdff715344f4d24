import { html, render } from 'lit';
import { api, Project, utc, Webhook, WebhookCreated, WebhookDelivery, WebhookDeliveryLog } from '../api';
import { atLeast, projectRole, userMenu } from '../session';
import { toast } from '../toast';

const when = (iso?: string | null) => iso ? utc(iso).toLocaleString() : '—';

/** "200", "500 · retry at 12:01", "refused: … (no answer)": what a delivery's latest attempt came to. */
function outcome(d: WebhookDelivery) {
  const code = d.statusCode != null ? String(d.statusCode) : 'no answer';
  const next = d.status === 'pending' && d.nextAttemptAt ? ` · next try ${utc(d.nextAttemptAt).toLocaleTimeString()}` : '';
  return html`<span class="chip delivery-${d.status}" title=${d.error ?? ''}>${d.status}</span> ${d.attempts ? code : ''}${next}
    ${d.error ? html`<span class="muted">${d.error}</span>` : ''}`;
}

/**
 * /projects/{id}/webhooks, owners only: add a hook (its secret shown once, with a copy button), the hooks with their
 * latest deliveries, one hook's delivery log with each attempt and a redeliver button, and delete (confirmed).
 * docs/webhooks.md says what receivers get and how to check the signature.
 */
export function webhooksPage(root: HTMLElement, projectId: string): void {
  let project: Project | undefined;
  let owner = false;
  let events: string[] = [];
  let hooks: Webhook[] = [];
  let created: WebhookCreated | undefined;
  let open: { hook: Webhook; log: WebhookDeliveryLog[] } | undefined;
  let loading = true;

  const fail = (err: unknown) => toast((err as Error).message, true);

  const load = async () => {
    try {
      [project, events] = await Promise.all([api.project(projectId), api.webhookEvents()]);
      owner = atLeast(await projectRole(projectId), 'owner');
      if (owner) hooks = await api.webhooks(projectId);
      if (open) open = { hook: hooks.find(h => h.id === open!.hook.id) ?? open.hook, log: await api.webhookDeliveries(projectId, open.hook.id) };
    } catch (err) { fail(err); }
    loading = false;
    draw();
  };

  const add = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const chosen = data.getAll('events').map(String);
    if (chosen.length === 0) { toast('Pick at least one event', true); return; }
    try {
      created = await api.createWebhook(projectId, String(data.get('url')).trim(), chosen);
      form.reset();
      toast('Webhook added: copy its secret now, it is not shown again');
      await load();
    } catch (err) { fail(err); }
  };

  const remove = async (hook: Webhook) => {
    if (!confirm(`Delete the webhook to ${hook.url}? Its delivery log goes with it, and nothing more is sent there.`)) return;
    try {
      await api.deleteWebhook(projectId, hook.id);
      if (open?.hook.id === hook.id) open = undefined;
      if (created?.id === hook.id) created = undefined;
      toast(`Deleted the webhook to ${hook.url}`);
      await load();
    } catch (err) { fail(err); }
  };

  const showLog = async (hook: Webhook) => {
    try { open = { hook, log: await api.webhookDeliveries(projectId, hook.id) }; draw(); toast(`Delivery log of ${hook.url}`); } catch (err) { fail(err); }
  };

  const redeliver = async (hook: Webhook, d: WebhookDelivery) => {
    try {
      await api.redeliver(projectId, hook.id, d.id);
      toast(`${d.event} queued again for ${hook.url}`);
      await load();
    } catch (err) { fail(err); }
  };

  const copySecret = (secret: string) =>
    navigator.clipboard?.writeText(secret).then(() => toast('Secret copied'), () => toast('Copy it by hand', true)) ?? toast('Copy it by hand', true);

  const logView = (hook: Webhook, log: WebhookDeliveryLog[]) => html`
    <section class="card webhook-log" aria-label="Delivery log">
      <h3>Deliveries to ${hook.url} <button type="button" @click=${load}>Refresh</button> <button type="button" @click=${() => { open = undefined; draw(); }}>Close</button></h3>
      ${log.length === 0 ? html`<p class="muted">Nothing sent yet: deliveries appear here when one of its events happens.</p>` : ''}
      <table class="tokens">
        <thead><tr><th>Event</th><th>Created</th><th>Outcome</th><th>Attempts</th><th></th></tr></thead>
        <tbody>${log.map(({ delivery: d, payload, log: attempts }) => html`<tr>
          <td><code>${d.event}</code>${d.redeliveryOf ? html` <span class="muted">(redelivery)</span>` : ''}</td>
          <td>${when(d.createdAt)}</td>
          <td>${outcome(d)}</td>
          <td><details><summary>${attempts.length}</summary>
            <ol>${attempts.map(a => html`<li>${when(a.at)}: ${a.statusCode ?? 'no answer'}${a.error ? ` — ${a.error}` : ''} (${a.durationMs} ms)</li>`)}</ol>
            <pre class="payload">${payload}</pre></details></td>
          <td><button type="button" @click=${() => redeliver(hook, d)} ?disabled=${d.status === 'pending'}
            title="Send the same event (same id and body) again">Redeliver</button></td></tr>`)}</tbody>
      </table>
    </section>`;

  const draw = () => render(html`
    <header class="top"><a href="/">VisionLabel</a><a href="/projects/${projectId}">${project?.name ?? 'Project'}</a><strong>Webhooks</strong>${userMenu()}</header>
    <main class="page webhooks">
      <h2>Webhooks</h2>
      <p class="muted">VisionLabel POSTs a signed JSON body to each URL when one of its events happens in this project
        (docs/webhooks.md in the repository: the payloads, checking <code>X-VisionLabel-Signature</code>, retries).</p>
      ${loading ? html`<p class="muted">Loading…</p>` : !owner ? html`<p role="alert">Only the project's owners manage its webhooks.</p>` : html`
      ${created ? html`<p class="token-once card" role="status">Secret of the webhook to ${created.url} (shown only now): <code class="secret">${created.secret}</code>
        <button type="button" @click=${() => copySecret(created!.secret)}>Copy</button>
        <button type="button" @click=${() => { created = undefined; draw(); }}>Done</button></p>` : ''}
      <form class="card" @submit=${add} aria-label="New webhook">
        <h3>Add a webhook</h3>
        <p><label>Payload URL<br><input name="url" type="url" required maxlength="2000" placeholder="https://ci.example.com/visionlabel" size="60" /></label></p>
        <fieldset><legend>Events</legend>
          ${events.map(name => html`<label class="event-choice"><input type="checkbox" name="events" value=${name} ?checked=${name === 'image.approved'} /> <code>${name}</code></label> `)}
        </fieldset>
        <p><button type="submit">Add webhook</button></p>
      </form>
      <section class="card" aria-label="Webhooks">
        <h3>This project's webhooks (${hooks.length})</h3>
        ${hooks.length === 0 ? html`<p class="muted">None yet.</p>` : ''}
        <table class="tokens">
          <thead><tr><th>URL</th><th>Events</th><th>Last delivery</th><th></th></tr></thead>
          <tbody>${hooks.map(h => html`<tr>
            <td><code>${h.url}</code><br><span class="muted">by ${h.createdBy}, ${when(h.createdAt)}</span></td>
            <td>${h.events.map(e => html`<code>${e}</code> `)}</td>
            <td>${h.lastDeliveries[0] ? html`<code>${h.lastDeliveries[0].event}</code> ${outcome(h.lastDeliveries[0])}` : html`<span class="muted">none yet</span>`}</td>
            <td><button type="button" @click=${() => showLog(h)}>Delivery log</button> <button type="button" class="danger" @click=${() => remove(h)}>Delete</button></td></tr>`)}</tbody>
        </table>
      </section>
      ${open ? logView(open.hook, open.log) : ''}`}
    </main>`, root);

  draw();
  load();
}
