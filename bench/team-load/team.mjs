// Load test for work distribution (issue 22): a team pulling images from the queue, editing them live and reviewing them.
//   node team.mjs --url URL --token ADMIN_TOKEN [--annotators 500] [--reviewers 20] [--leads N] [--ops-per-image 30]
//                 [--rate 1] [--seconds 60] [--images M] [--ramp 10] [--review-seconds 0.5] [--json FILE] [--samples FILE] [--cpu name=pid,…]
//
// Set-up (over HTTP, as an instance admin): a project with three labels, M distinct small PNGs, and one account per
// simulated person (POST /api/users, project membership, then the person signs in and makes a personal access token).
//
// Annotators (role annotator), each on its own account and connection:
//   POST queue/next {stage: annotate} (timed) → JoinImage → a box created, then ops at --rate ops/s (timed Submit → OpAck;
//   mostly updates of its boxes, now and then another box) → after ~--ops-per-image ops (±20%) SubmitImage → LeaveImage → next.
// Reviewers (role reviewer): POST queue/next {stage: review} (timed) → JoinImage (the snapshot must hold every op the
//   annotator had acked) → --review-seconds of looking → ApproveImage → LeaveImage → next. On 204 (nothing to review)
//   they poll again after 100 ms, doubling to 1 s (the server has no push signal for "review work is waiting").
// Leads (role viewer, --leads, default one per 10 annotators): each follows one annotator: joins every image that
//   annotator takes before its first op and leaves after it is submitted. Op→peer is Submit → Applied at the lead.
//
// Correctness:
//   lost: an acked op the lead did not receive (every seq after its join, exactly once), a reviewer's snapshot that
//     lacks acked ops, or (the final check) an acked op missing from the image's op log (Resume(imageId, 0)) or with
//     another seq, or a gap in the log's seqs.
//   duplicated: an op received twice by the lead, an op in the log twice or not acked by anyone; an image handed out
//     while someone else's lease on it was live (unexpired, not yet submitted/approved), handed out for annotation after it
//     was submitted, for review before it was submitted or after it was approved; submitted or approved twice.
// All clients run in this one process, so one clock times both ends of op→peer.
import * as signalR from '@microsoft/signalr';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { deflateSync } from 'node:zlib';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

const arg = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : fallback; };
const url = arg('url', 'http://127.0.0.1:5080'), adminToken = arg('token', '');
const annotatorCount = Number(arg('annotators', 500)), reviewerCount = Number(arg('reviewers', 20));
const leadCount = Math.min(annotatorCount, Number(arg('leads', Math.ceil(annotatorCount / 10))));
const opsPerImage = Number(arg('ops-per-image', 30)), rate = Number(arg('rate', 1)), seconds = Number(arg('seconds', 60));
const ramp = Number(arg('ramp', 10)), reviewSeconds = Number(arg('review-seconds', 0.5));
const imageSeconds = opsPerImage / rate;
// Enough images that nobody runs dry: each annotator takes one per ~imageSeconds (the shortest is 0.8 of it), plus slack.
const imageCount = Number(arg('images', annotatorCount * (Math.ceil((seconds + ramp) / (0.8 * imageSeconds)) + 1)));
const setupConcurrency = Number(arg('setup-concurrency', 4)), jsonOut = arg('json', '');
const leaseSeconds = arg('lease-seconds', '');
const password = 'team-load-password-long-enough';
if (!adminToken) { console.error('need --token (an admin write token)'); process.exit(2); }

const sleep = ms => new Promise(r => setTimeout(r, ms));
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------- HTTP
async function http(method, path, { token, body, cookies, headers = {}, form } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (cookies) h.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { h['content-type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(url + path, { method, headers: h, body: payload });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  if (cookies) for (const c of res.headers.getSetCookie()) { const [kv] = c.split(';'); const i = kv.indexOf('='); cookies.set(kv.slice(0, i), kv.slice(i + 1)); }
  return { status: res.status, json };
}
async function must(method, path, opts, want = [200, 201, 204]) {
  const r = await http(method, path, opts);
  if (!want.includes(r.status)) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json).slice(0, 400)}`);
  return r.json;
}
async function pool(items, concurrency, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => { while (i < items.length) { const k = i++; await fn(items[k], k); } }));
}

// ---------------------------------------------------------------- distinct small PNGs (640x480 grey, the index in the first row)
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = buf => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0); out.write(type, 4, 'latin1'); data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
const W = 640, H = 480;
function png(index) {
  const raw = Buffer.alloc((W + 1) * H, 96);
  for (let y = 0; y < H; y++) raw[y * (W + 1)] = 0; // filter: none
  for (let b = 0; b < 32; b++) raw[1 + b] = (index >>> b) & 1 ? 255 : 0;
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(H, 4); ihdr[8] = 8; ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// ---------------------------------------------------------------- set-up
const setupStarted = performance.now();
const project = await must('POST', '/api/projects', { token: adminToken, body: { name: `team-load ${new Date().toISOString()}`, labels: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } });
const projectId = project.id, labels = project.labels.map(l => l.id);
if (leaseSeconds) await must('PATCH', `/api/projects/${projectId}`, { token: adminToken, body: { workflow: { leaseSeconds: Number(leaseSeconds) } } });

const batches = [];
for (let i = 0; i < imageCount; i += 100) batches.push([i, Math.min(imageCount, i + 100)]);
let uploaded = 0;
await pool(batches, 2, async ([from, to]) => {
  const form = new FormData();
  for (let i = from; i < to; i++) form.append('file', new Blob([png(i)], { type: 'image/png' }), `team-${i}.png`);
  const summary = await must('POST', `/api/projects/${projectId}/images`, { token: adminToken, form });
  uploaded += summary.created;
});
if (uploaded !== imageCount) throw new Error(`uploaded ${uploaded} of ${imageCount} images`);
log(`project ${projectId}: ${uploaded} images in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

const people = [
  ...Array.from({ length: annotatorCount }, (_, i) => ({ name: `annotator${String(i).padStart(4, '0')}`, role: 'annotator' })),
  ...Array.from({ length: reviewerCount }, (_, i) => ({ name: `reviewer${String(i).padStart(3, '0')}`, role: 'reviewer' })),
  ...Array.from({ length: leadCount }, (_, i) => ({ name: `lead${String(i).padStart(3, '0')}`, role: 'viewer' })),
];
const accountsStarted = performance.now();
await pool(people, setupConcurrency, async p => {
  await must('POST', '/api/users', { token: adminToken, body: { userName: p.name, password } });
  await must('POST', `/api/projects/${projectId}/members`, { token: adminToken, body: { user: p.name, role: p.role } });
  // Each person signs in (cookie), fetches the antiforgery cookie and makes a write token of their own.
  const cookies = new Map();
  await must('POST', '/api/account/signin', { cookies, body: { userName: p.name, password, remember: false } });
  await must('GET', '/api/account', { cookies });
  const created = await must('POST', '/api/account/tokens', { cookies, headers: { 'x-xsrf-token': decodeURIComponent(cookies.get('XSRF-TOKEN') ?? '') }, body: { name: 'team-load', scope: 'write' } });
  p.token = created.token;
});
log(`${people.length} accounts with tokens in ${((performance.now() - accountsStarted) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- measurements
const samples = { nextAnnotate: [], nextReview: [], nextReviewEmpty: [], nextAnnotateEmpty: [], ack: [], peer: [], join: [], submitImage: [], approve: [], cycle: [] };
const record = (name, t0) => samples[name].push([t0 - runStart, performance.now() - t0]);
const errors = new Map(); // kind -> { count, first }
function error(kind, detail) {
  const e = errors.get(kind) ?? { count: 0, first: String(detail).slice(0, 300) };
  e.count++; errors.set(kind, e);
  if (e.count === 1) log(`error ${kind}: ${e.first}`);
}
const violations = { lost: new Map(), duplicated: new Map() };
function violation(kind, what, detail) {
  violations[kind].set(what, (violations[kind].get(what) ?? 0) + 1);
  if (violations[kind].get(what) === 1) log(`${kind}: ${what}: ${detail}`);
}
const sentAt = new Map(); // clientOpId -> performance.now() at Submit
const images = new Map(); // imageId -> what the clients did with it
const imageOf = id => {
  let img = images.get(id);
  if (!img) images.set(id, img = { id, annotateLeases: [], reviewLeases: [], submitSent: 0, submitted: 0, approveSent: 0, approved: 0, acked: new Map(), creates: 0, maxSeq: 0 });
  return img;
};
const events = { submitted: [], approved: [] }; // times (ms since runStart) of answered submissions / approvals

// A lease answer is checked against what the clients know of the image (leases here last far longer than the run).
function checkLease(stage, lease, who) {
  const img = imageOf(lease.imageId), now = Date.now();
  if (stage === 'annotate') {
    if (img.submitSent) violation('duplicated', 'handed out for annotation after its submission', `${lease.imageId} to ${who}`);
    const live = img.annotateLeases.find(l => l.holder !== who && l.expires > now && !img.submitSent);
    if (live) violation('duplicated', 'handed out while another annotator held it', `${lease.imageId} to ${who}, held by ${live.holder}`);
    if (img.annotateLeases.some(l => l.holder === who)) violation('duplicated', 'handed out again to its holder', `${lease.imageId} to ${who}`);
    img.annotateLeases.push({ holder: who, expires: Date.parse(lease.leaseExpiresAt) });
  } else {
    if (!img.submitSent) violation('duplicated', 'handed out for review before its submission', `${lease.imageId} to ${who}`);
    if (img.approveSent) violation('duplicated', 'handed out for review after its approval', `${lease.imageId} to ${who}`);
    const live = img.reviewLeases.find(l => l.holder !== who && l.expires > now && !img.approveSent);
    if (live) violation('duplicated', 'handed out while another reviewer held it', `${lease.imageId} to ${who}, held by ${live.holder}`);
    img.reviewLeases.push({ holder: who, expires: Date.parse(lease.leaseExpiresAt) });
  }
  return img;
}

// ---------------------------------------------------------------- connections
async function connect(person) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/annotations?access_token=${encodeURIComponent(person.token)}`, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.Error).build();
  connection.serverTimeoutInMilliseconds = 120_000;
  for (let attempt = 1; ; attempt++) {
    try { await connection.start(); break; }
    catch (e) { if (attempt === 5) throw e; await sleep(200 * attempt); }
  }
  connection.onclose(e => { if (running) error('connection closed', `${person.name}: ${e?.message ?? 'closed'}`); });
  person.connection = connection;
  return person;
}
const annotators = people.filter(p => p.role === 'annotator'), reviewers = people.filter(p => p.role === 'reviewer'), leads = people.filter(p => p.role === 'viewer');
const connectStarted = performance.now();
await pool(people, 20, connect);
log(`${people.length} hub connections in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);

// A lead follows one annotator: on every image they take, from before the first op until after the submission.
const step = Math.max(1, Math.floor(annotatorCount / Math.max(1, leadCount)));
leads.forEach((lead, i) => {
  annotators[i * step].lead = lead;
  lead.following = new Map(); // imageId -> { seen: Map(seq -> count), joinedSeq }
  lead.connection.on('Applied', applied => {
    const now = performance.now();
    const f = lead.following.get(applied.op.imageId);
    if (!f) return;
    f.seen.set(applied.seq, (f.seen.get(applied.seq) ?? 0) + 1);
    const t = sentAt.get(applied.op.clientOpId);
    if (t !== undefined && f.joinedSeq !== undefined && applied.seq > f.joinedSeq) samples.peer.push([t - runStart, now - t]);
  });
});
async function follow(lead, imageId) {
  const f = { seen: new Map(), joinedSeq: undefined };
  lead.following.set(imageId, f);
  const snapshot = await lead.connection.invoke('JoinImage', imageId);
  f.joinedSeq = snapshot.seq;
}
async function unfollow(lead, img) {
  const f = lead.following.get(img.id);
  const want = [...img.acked.values()].filter(s => s > f.joinedSeq);
  const waitUntil = performance.now() + 5000;
  while (want.some(s => !f.seen.has(s)) && performance.now() < waitUntil) await sleep(50);
  for (const s of want) if (!f.seen.has(s)) violation('lost', 'acked op not received by the lead', `${img.id} seq ${s}`);
  for (const [s, n] of f.seen) if (s > f.joinedSeq && n > 1) violation('duplicated', 'op received twice by the lead', `${img.id} seq ${s} ×${n}`);
  lead.following.delete(img.id);
  try { await lead.connection.invoke('LeaveImage', img.id); } catch (e) { error('LeaveImage (lead)', e.message); }
}

// ---------------------------------------------------------------- the run
let running = true, runStart = 0;
const randomBox = () => { const x = Math.floor(Math.random() * 500), y = Math.floor(Math.random() * 380); return { x, y, width: 10 + Math.floor(Math.random() * (W - x - 10)), height: 10 + Math.floor(Math.random() * (H - y - 10)) }; };

async function submitOp(person, img, op) {
  const t0 = performance.now();
  sentAt.set(op.clientOpId, t0);
  let ack;
  try { ack = await person.connection.invoke('Submit', op); }
  catch (e) { error('Submit failed', e.message); return; }
  record('ack', t0);
  if (ack.seq === null || ack.seq === undefined) { error('op rejected', ack.rejected); return; }
  if ([...img.acked.values()].includes(ack.seq)) violation('duplicated', 'two ops acked with one seq', `${img.id} seq ${ack.seq}`);
  img.acked.set(op.clientOpId, ack.seq);
  img.maxSeq = Math.max(img.maxSeq, ack.seq);
  if (op.type === 'create') img.creates++;
}

async function annotator(a, index) {
  await sleep(Math.random() * ramp * 1000);
  let n = 0;
  while (running) {
    let t0 = performance.now();
    const cycleStart = t0;
    let r;
    try { r = await http('POST', `/api/projects/${projectId}/queue/next`, { token: a.token, body: { stage: 'annotate' } }); }
    catch (e) { error('next (annotate) failed', e.message); await sleep(1000); continue; }
    if (r.status === 204) { record('nextAnnotateEmpty', t0); error('annotate queue empty', 'no images left (raise --images)'); await sleep(1000); continue; }
    if (r.status !== 200) { error(`next (annotate) ${r.status}`, JSON.stringify(r.json)); await sleep(1000); continue; }
    record('nextAnnotate', t0);
    const img = checkLease('annotate', r.json, a.name);
    try {
      t0 = performance.now();
      const snapshot = await a.connection.invoke('JoinImage', img.id);
      record('join', t0);
      if (snapshot.seq !== 0) violation('duplicated', 'a new image already had ops', `${img.id} seq ${snapshot.seq}`);
      if (a.lead) await follow(a.lead, img.id);
    } catch (e) { error('JoinImage (annotator)', e.message); await sleep(1000); continue; }

    const ops = Math.max(1, Math.round(opsPerImage * (0.8 + 0.4 * Math.random())));
    const boxes = [], pending = [];
    let due = performance.now();
    for (let k = 0; k < ops && running; k++) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      due += 1000 / rate;
      if (!running) break;
      const clientOpId = `${a.name}-${++n}`;
      if (boxes.length === 0 || (boxes.length < 5 && Math.random() < 0.1)) {
        const id = crypto.randomUUID();
        boxes.push(id);
        pending.push(submitOp(a, img, { clientOpId, imageId: img.id, type: 'create', annotationId: id, changes: { labelId: labels[(index + k) % labels.length], kind: 'box', geometry: randomBox() } }));
      } else {
        const target = boxes[Math.floor(Math.random() * boxes.length)];
        const changes = Math.random() < 0.7 ? { geometry: randomBox() } : { attributes: { n, by: a.name } };
        pending.push(submitOp(a, img, { clientOpId, imageId: img.id, type: 'update', annotationId: target, changes }));
      }
    }
    await Promise.all(pending);
    if (!running) { if (a.lead) await unfollow(a.lead, img); break; } // the run ended mid-image: left leased, not submitted
    img.submitSent++;
    if (img.submitSent > 1) violation('duplicated', 'submitted twice', img.id);
    t0 = performance.now();
    try {
      const state = await a.connection.invoke('SubmitImage', img.id);
      record('submitImage', t0);
      record('cycle', cycleStart);
      img.submitted++;
      events.submitted.push(performance.now() - runStart);
      if (state.status !== 'submitted') error('submitted image not in review', `${img.id}: ${state.status}`);
    } catch (e) { error('SubmitImage', e.message); }
    if (a.lead) unfollow(a.lead, img); // in the background: it waits for the last Applied to arrive
    try { await a.connection.invoke('LeaveImage', img.id); } catch (e) { error('LeaveImage', e.message); }
  }
}

async function reviewer(r) {
  await sleep(Math.random() * 1000);
  let backoff = 100;
  while (running) {
    let t0 = performance.now();
    let res;
    try { res = await http('POST', `/api/projects/${projectId}/queue/next`, { token: r.token, body: { stage: 'review' } }); }
    catch (e) { error('next (review) failed', e.message); await sleep(1000); continue; }
    if (res.status === 204) {
      record('nextReviewEmpty', t0);
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, 1000);
      continue;
    }
    if (res.status !== 200) { error(`next (review) ${res.status}`, JSON.stringify(res.json)); await sleep(1000); continue; }
    record('nextReview', t0);
    backoff = 100;
    const img = checkLease('review', res.json, r.name);
    try {
      t0 = performance.now();
      const snapshot = await r.connection.invoke('JoinImage', img.id);
      record('join', t0);
      // Everything the annotator had acked before submitting is in the image.
      if (snapshot.seq !== img.maxSeq) violation('lost', 'reviewer snapshot seq differs from the last acked op', `${img.id}: ${snapshot.seq} vs ${img.maxSeq}`);
      if (snapshot.annotations.length !== img.creates) violation('lost', 'reviewer snapshot lacks acked boxes', `${img.id}: ${snapshot.annotations.length} vs ${img.creates}`);
    } catch (e) { error('JoinImage (reviewer)', e.message); continue; }
    await sleep(reviewSeconds * 1000);
    if (!running) break; // left leased
    img.approveSent++;
    if (img.approveSent > 1) violation('duplicated', 'approved twice', img.id);
    t0 = performance.now();
    try {
      const state = await r.connection.invoke('ApproveImage', img.id);
      record('approve', t0);
      img.approved++;
      events.approved.push(performance.now() - runStart);
      if (state.status !== 'approved') error('approved image not approved', `${img.id}: ${state.status}`);
    } catch (e) { error('ApproveImage', e.message); }
    try { await r.connection.invoke('LeaveImage', img.id); } catch (e) { error('LeaveImage', e.message); }
  }
}

// CPU: this process, the named server processes (name=pid, or name=pid+ to add the pid's children), the whole machine.
const clockTicks = 100;
const cpuPids = (arg('cpu', '') || '').split(',').filter(Boolean).map(s => { const [name, pid] = s.split('='); return { name, pid: parseInt(pid), tree: pid.endsWith('+') }; });
const procStat = pid => { try { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return { ppid: +f[1], ticks: +f[11] + +f[12] }; } catch { return null; } };
function cpuTicks(p) {
  let total = procStat(p.pid)?.ticks ?? 0;
  if (p.tree) for (const d of readdirSync('/proc')) { if (!/^\d+$/.test(d)) continue; const s = procStat(d); if (s && s.ppid === p.pid) total += s.ticks; }
  return total;
}
const machine = () => { const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number); return { busy: f[0] + f[1] + f[2] + f[5] + f[6] + f[7], all: f.slice(0, 8).reduce((a, b) => a + b, 0) }; };
const cpuBefore = { self: process.cpuUsage(), pids: cpuPids.map(cpuTicks), machine: machine() };

// Once a second: each named process's thread count and CPU (a thread pool growing under load shows here).
const processSeries = [];
const threadsOf = pid => { try { return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch { return null; } };
const sampler = setInterval(() => processSeries.push([Math.round(performance.now() - runStart), ...cpuPids.map(p => [threadsOf(p.pid), cpuTicks(p)])]), 1000);
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
runStart = performance.now();
log(`running: ${annotatorCount} annotators, ${reviewerCount} reviewers, ${leadCount} leads, ${opsPerImage} ops/image at ${rate} op/s, ${seconds} s`);
const stopper = sleep(seconds * 1000).then(() => { running = false; });
const ticker = setInterval(() => log(`t=${((performance.now() - runStart) / 1000).toFixed(0)} s: submitted ${events.submitted.length}, approved ${events.approved.length}, ops acked ${samples.ack.length}`), 15000);
const workers = [...annotators.map((a, i) => annotator(a, i)), ...reviewers.map(reviewer)];
await stopper;
const elapsed = (performance.now() - runStart) / 1000;
const cpuAfter = { self: process.cpuUsage(cpuBefore.self), pids: cpuPids.map(cpuTicks), machine: machine() };
clearInterval(ticker);
clearInterval(sampler);
await Promise.all(workers);
loopDelay.disable();
log(`stopped after ${elapsed.toFixed(1)} s (+${((performance.now() - runStart) / 1000 - elapsed).toFixed(1)} s to finish the calls in flight)`);
await sleep(1500);
// Leads still waiting on their last image finish their check.
while (leads.some(l => l.following.size > 0)) await sleep(100);

// ---------------------------------------------------------------- final check: every acked op in the op log, once, with its seq
const verifyStarted = performance.now();
const verifier = await connect({ name: 'admin', token: adminToken });
const touched = [...images.values()].filter(i => i.acked.size > 0);
let logOps = 0;
await pool(touched, 8, async img => {
  let resumed;
  try { resumed = await verifier.connection.invoke('Resume', img.id, 0); } catch (e) { error('Resume (verify)', e.message); return; }
  if (resumed.snapshot) { error('verify: image log too long to replay', img.id); return; }
  const byId = new Map();
  resumed.ops.forEach((o, k) => {
    logOps++;
    if (o.seq !== k + 1) violation('lost', 'gap in the op log', `${img.id}: position ${k + 1} has seq ${o.seq}`);
    if (byId.has(o.op.clientOpId)) violation('duplicated', 'op in the log twice', `${img.id} ${o.op.clientOpId}`);
    byId.set(o.op.clientOpId, o.seq);
    if (!img.acked.has(o.op.clientOpId)) violation('duplicated', 'op in the log that nobody had acked', `${img.id} ${o.op.clientOpId} seq ${o.seq}`);
  });
  for (const [id, seq] of img.acked) {
    if (!byId.has(id)) violation('lost', 'acked op missing from the op log', `${img.id} ${id}`);
    else if (byId.get(id) !== seq) violation('lost', 'acked op has another seq in the log', `${img.id} ${id}: ${seq} vs ${byId.get(id)}`);
  }
});
// The server's counts of submitted and approved images against the clients'.
const total = async status => (await must('GET', `/api/projects/${projectId}/images?status=${status}&limit=1`, { token: adminToken })).total;
const serverApproved = await total('approved'), serverSubmitted = await total('submitted');
const clientApproved = events.approved.length, clientSubmitted = events.submitted.length;
const approvesInFlight = [...images.values()].filter(i => i.approveSent && !i.approved).length;
if (serverApproved !== clientApproved) error('server and clients disagree on approvals', `server ${serverApproved}, clients ${clientApproved} (${approvesInFlight} approvals unanswered)`);
if (serverSubmitted + serverApproved !== clientSubmitted) error('server and clients disagree on submissions', `server submitted+approved ${serverSubmitted + serverApproved}, clients ${clientSubmitted}`);
log(`verified ${touched.length} images' op logs (${logOps} ops) in ${((performance.now() - verifyStarted) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- report
const pct = (values, p) => { if (!values.length) return NaN; const v = values.map(s => s[1]).sort((a, b) => a - b); return v[Math.min(v.length - 1, Math.floor(p / 100 * v.length))]; };
const r2 = v => Number.isFinite(v) ? Number(v.toFixed(2)) : null;
const stats = (s, from = 0) => { const v = s.filter(x => x[0] >= from); return { n: v.length, p50: r2(pct(v, 50)), p99: r2(pct(v, 99)), max: r2(pct(v, 100)) }; };
// Throughput in the steady window: after every annotator has had time to finish a first image.
const steadyFrom = Math.min((ramp + 1.2 * imageSeconds) * 1000, elapsed * 1000 / 2), steadyTo = elapsed * 1000;
const perHour = times => Math.round(times.filter(t => t >= steadyFrom && t <= steadyTo).length / ((steadyTo - steadyFrom) / 1000) * 3600);
const rampMs = ramp * 1000;
const sum = m => [...m.values()].reduce((a, b) => a + b, 0);
const cpu = (ticks0, ticks1) => r2((ticks1 - ticks0) / clockTicks / elapsed * 100);
const result = {
  annotators: annotatorCount, reviewers: reviewerCount, leads: leadCount, opsPerImage, ratePerAnnotator: rate, reviewSeconds, seconds: r2(elapsed), images: imageCount,
  nextMs: {
    annotate: stats(samples.nextAnnotate), annotateAfterRamp: stats(samples.nextAnnotate, rampMs),
    review: stats(samples.nextReview), reviewEmpty204: stats(samples.nextReviewEmpty), annotateEmpty204: samples.nextAnnotateEmpty.length,
    all: stats([...samples.nextAnnotate, ...samples.nextReview, ...samples.nextReviewEmpty]),
  },
  opAckMs: stats(samples.ack), opToPeerMs: stats(samples.peer),
  joinImageMs: stats(samples.join), submitImageMs: stats(samples.submitImage), approveImageMs: stats(samples.approve),
  opsPerSecond: r2(samples.ack.filter(s => s[0] <= elapsed * 1000).length / elapsed),
  submitted: clientSubmitted, approved: clientApproved, serverCounts: { submitted: serverSubmitted, approved: serverApproved },
  steadyWindowS: [r2(steadyFrom / 1000), r2(steadyTo / 1000)],
  submittedPerHour: perHour(events.submitted), approvedPerHour: perHour(events.approved),
  idealSubmittedPerHour: Math.round(annotatorCount * 3600 / imageSeconds),
  // Each annotator's pace: one image per mean cycle (next → submitted), whatever the window.
  imageCycleS: { mean: r2(samples.cycle.reduce((a, c) => a + c[1], 0) / Math.max(1, samples.cycle.length) / 1000), p99: r2(pct(samples.cycle, 99) / 1000) },
  lost: sum(violations.lost), duplicated: sum(violations.duplicated),
  lostDetail: Object.fromEntries(violations.lost), duplicatedDetail: Object.fromEntries(violations.duplicated),
  errors: Object.fromEntries([...errors].map(([k, v]) => [k, v.count])), errorExamples: Object.fromEntries([...errors].map(([k, v]) => [k, v.first])),
  opLogChecked: { images: touched.length, ops: logOps },
  cpuPercentOfOneCore: {
    loadTool: r2((cpuAfter.self.user + cpuAfter.self.system) / 1e4 / elapsed),
    ...Object.fromEntries(cpuPids.map((p, i) => [p.name, cpu(cpuBefore.pids[i], cpuAfter.pids[i])])),
    // Everything else on the machine (other people's work on a shared machine), from /proc/stat minus the above.
    otherProcesses: r2((cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.all - cpuBefore.machine.all) * cpus().length * 100
      - (cpuAfter.self.user + cpuAfter.self.system) / 1e4 / elapsed - cpuPids.reduce((a, p, i) => a + (cpuAfter.pids[i] - cpuBefore.pids[i]) / clockTicks / elapsed * 100, 0)),
    maxThreads: Object.fromEntries(cpuPids.map((p, i) => [p.name, Math.max(...processSeries.map(x => x[1 + i][0] ?? 0))])),
    machineBusyPercentOfAllCores: r2((cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.all - cpuBefore.machine.all) * 100),
  },
  loadToolEventLoopDelayMs: { p99: r2(loopDelay.percentile(99) / 1e6), max: r2(loopDelay.max / 1e6) },
};
const f = s => `${s.p50} / ${s.p99} (max ${s.max}, n=${s.n})`;
console.log(`
team load: ${annotatorCount} annotators, ${reviewerCount} reviewers, ${leadCount} leads; ~${opsPerImage} ops/image at ${rate} op/s; ${result.seconds} s
  next annotate p50 / p99 ms   ${f(result.nextMs.annotate)}   after the ${ramp} s ramp: ${f(result.nextMs.annotateAfterRamp)}
  next review   p50 / p99 ms   ${f(result.nextMs.review)}   204 answers: ${f(result.nextMs.reviewEmpty204)}
  next (all)    p50 / p99 ms   ${f(result.nextMs.all)}
  op→ack        p50 / p99 ms   ${f(result.opAckMs)}   (${result.opsPerSecond} ops/s)
  op→peer       p50 / p99 ms   ${f(result.opToPeerMs)}
  JoinImage / SubmitImage / ApproveImage p50 / p99 ms   ${result.joinImageMs.p50} / ${result.joinImageMs.p99}, ${result.submitImageMs.p50} / ${result.submitImageMs.p99}, ${result.approveImageMs.p50} / ${result.approveImageMs.p99}
  submitted ${clientSubmitted}, approved ${clientApproved} (server: ${serverSubmitted} waiting + ${serverApproved} approved)
  submitted/h ${result.submittedPerHour}, approved/h ${result.approvedPerHour} (window ${result.steadyWindowS[0]}–${result.steadyWindowS[1]} s; ideal ${result.idealSubmittedPerHour}/h; image cycle next→submitted mean ${result.imageCycleS.mean} s, p99 ${result.imageCycleS.p99} s)
  lost ${result.lost}, duplicated ${result.duplicated}, errors ${sum(new Map(Object.entries(result.errors)))} ${JSON.stringify(result.errors)}
  op log checked: ${touched.length} images, ${logOps} ops
  CPU (% of one core): ${JSON.stringify(result.cpuPercentOfOneCore)}; load tool event loop delay p99 ${result.loadToolEventLoopDelayMs.p99} ms, max ${result.loadToolEventLoopDelayMs.max} ms
`);
console.log(JSON.stringify(result, null, 2));
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
// --samples FILE: every sample as [ms since the start, latency ms], by kind (to see when the slow ones happened).
if (arg('samples', '')) writeFileSync(arg('samples', ''), JSON.stringify({ ...samples, submittedAt: events.submitted, approvedAt: events.approved, processes: cpuPids.map(p => p.name), processSeries }));
await Promise.all(people.filter(p => p.connection).map(p => p.connection.stop().catch(() => {})));
await verifier.connection.stop();
process.exit(result.lost === 0 && result.duplicated === 0 && errors.size === 0 ? 0 : 1);
