// Load test for /hubs/annotations: E editors each submitting R ops/s to one image, plus W watchers.
//   node load.mjs --url http://127.0.0.1:5080 --token TOKEN --image IMAGE_ID --labels L1,L2 [--editors 50] [--watchers 10] [--rate 5] [--seconds 20]
// Reports ack latency (Submit → its ack), op-to-peer latency (Submit → Applied at every other client),
// and lost/duplicated ops (every client must see every seq after its join exactly once).
// All clients run in this process, so one clock times both ends.
import * as signalR from '@microsoft/signalr';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const arg = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : fallback; };
const url = arg('url', 'http://127.0.0.1:5080'), imageId = arg('image'), labels = arg('labels', '').split(','), token = arg('token', '');
const editors = Number(arg('editors', 50)), watchers = Number(arg('watchers', 10)), rate = Number(arg('rate', 5)), seconds = Number(arg('seconds', 20));
if (!imageId || !labels[0]) { console.error('need --image and --labels'); process.exit(2); }

const sentAt = new Map();        // clientOpId -> time sent
// Steady-state latencies only: the opening burst (every editor creating its shape at the same instant on a
// cold server) is not the load being measured, so it is reported on its own.
const steady = { ack: [], peer: [] }, opening = { ack: [], peer: [] };
let phase = opening;
let acked = 0, rejected = 0, sent = 0, failed = 0;

async function connect(user) {
  const connection = new signalR.HubConnectionBuilder()
    // Every client signs in with the same token (one account); each connection is its own participant.
    .withUrl(`${url}/hubs/annotations?access_token=${encodeURIComponent(token)}`, { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.Error).build();
  const client = { user, connection, seen: new Map(), joinedAt: 0 };
  connection.on('Applied', applied => {
    const now = performance.now();
    client.seen.set(applied.seq, (client.seen.get(applied.seq) ?? 0) + 1);
    const sent = sentAt.get(applied.op.clientOpId);
    // Peers: every client but the sender (all clients share one account, so tell them apart by the op id's prefix).
    if (sent !== undefined && !applied.op.clientOpId.startsWith(`${user}-`)) sent.phase.peer.push(now - sent.t);
  });
  // A loaded machine (or a proxy still starting) can refuse a connection now and then: retry it rather than lose the run.
  for (let attempt = 1; ; attempt++) {
    try { await connection.start(); break; }
    catch (e) {
      if (attempt === 5) throw e;
      await new Promise(r => setTimeout(r, 200 * attempt));
    }
  }
  const snapshot = await connection.invoke('JoinImage', imageId);
  client.joinedAt = snapshot.seq;
  client.own = [];
  return client;
}

const randomBox = () => ({ x: Math.floor(Math.random() * 300), y: Math.floor(Math.random() * 200), width: 10 + Math.floor(Math.random() * 300), height: 10 + Math.floor(Math.random() * 250) });

const clients = [];
for (let i = 0; i < editors; i++) clients.push(await connect(`editor${i}`));
for (let i = 0; i < watchers; i++) clients.push(await connect(`watcher${i}`));
const editing = clients.slice(0, editors);

async function submit(client, op) {
  const t = performance.now(), at = phase;
  sentAt.set(op.clientOpId, { t, phase: at });
  sent++;
  let ack;
  try { ack = await client.connection.invoke('Submit', op); }
  catch (e) {
    // A dropped connection fails its calls: count them (the run reports them) instead of ending without a result.
    failed++;
    if (failed === 1) console.error(`a Submit failed: ${e.message}`);
    return null;
  }
  at.ack.push(performance.now() - t);
  if (ack.seq !== null && ack.seq !== undefined) acked++; else rejected++;
  return ack;
}

// Each editor first creates a shape of its own, then edits at `rate` ops/s (mostly its own shapes, sometimes another's).
await Promise.all(editing.map(async (c, i) => {
  const id = crypto.randomUUID();
  const ack = await submit(c, { clientOpId: `${c.user}-0`, imageId, type: 'create', annotationId: id, changes: { labelId: labels[i % labels.length], kind: 'box', geometry: randomBox() } });
  if (ack?.seq != null) c.own.push(id);
}));
const allShapes = editing.flatMap(c => c.own);
if (allShapes.length === 0) { console.error('no editor could create its shape'); process.exit(1); }
await new Promise(r => setTimeout(r, 500)); // let the opening burst's broadcasts arrive before measuring
phase = steady;

// The clients share this process's event loop: a stall here delays every receive, so report it beside the latencies.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const started = performance.now();
let running = true;
await Promise.all(editing.map(async (c, i) => {
  let n = 1;
  const interval = 1000 / rate;
  let next = performance.now() + Math.random() * interval;
  const pending = [];
  while (running && performance.now() - started < seconds * 1000) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise(r => setTimeout(r, wait));
    next += interval;
    const target = Math.random() < 0.8 && c.own.length > 0 ? c.own[0] : allShapes[Math.floor(Math.random() * allShapes.length)];
    const changes = Math.random() < 0.7 ? { geometry: randomBox() } : { attributes: { n, by: c.user } };
    pending.push(submit(c, { clientOpId: `${c.user}-${n++}`, imageId, type: 'update', annotationId: target, changes }));
  }
  await Promise.all(pending);
}));
running = false;
loopDelay.disable();
const elapsed = (performance.now() - started) / 1000;
await new Promise(r => setTimeout(r, 1500)); // let the last broadcasts arrive

const reader = clients.find(c => c.connection.state === signalR.HubConnectionState.Connected);
const final = (await reader.connection.invoke('Resume', imageId, 0)).seq;
let lost = 0, duplicated = 0;
for (const c of clients) {
  for (let s = c.joinedAt + 1; s <= final; s++) {
    const count = c.seen.get(s) ?? 0;
    if (count === 0) lost++;
    if (count > 1) duplicated += count - 1;
  }
}
const ms = v => Number(v.toFixed(2));
const pct = (values, p) => { const v = [...values].sort((a, b) => a - b); return v.length ? v[Math.min(v.length - 1, Math.floor(p / 100 * v.length))] : NaN; };
const result = {
  editors, watchers, ratePerEditor: rate, seconds: Number(elapsed.toFixed(1)), opsSent: sent, acked, rejected, failed,
  opsPerSecond: Number(((sent - editors) / elapsed).toFixed(1)),
  ackMs: { p50: ms(pct(steady.ack, 50)), p99: ms(pct(steady.ack, 99)), max: ms(pct(steady.ack, 100)) },
  opToPeerMs: { p50: ms(pct(steady.peer, 50)), p99: ms(pct(steady.peer, 99)), max: ms(pct(steady.peer, 100)), samples: steady.peer.length },
  openingBurst: { creates: editors, ackMs: { p50: ms(pct(opening.ack, 50)), max: ms(pct(opening.ack, 100)) }, opToPeerMsMax: ms(pct(opening.peer, 100)) },
  loadToolEventLoopDelayMs: { p99: Number((loopDelay.percentile(99) / 1e6).toFixed(1)), max: Number((loopDelay.max / 1e6).toFixed(1)) },
  lostOps: lost, duplicatedOps: duplicated, finalSeq: final,
};
console.log(JSON.stringify(result, null, 2));
await Promise.all(clients.map(c => c.connection.stop()));
process.exit(lost === 0 && duplicated === 0 && failed === 0 ? 0 : 1);
