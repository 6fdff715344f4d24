import * as signalR from '@microsoft/signalr';
import type { Annotation, GeometryJson, ImageStatus, Kind, State, WorkState } from '../api';
import type { components } from '../api-schema';
import { bounds, fromAnnotation, Shape } from './shapes';

// The hub's messages, generated from the server's C# records (src/VisionLabel.Server/Web/HubSchemas.cs puts them in
// the OpenAPI document): a field renamed or retyped on the server fails this file's type check. Where the server
// carries free JSON (an op's changes, a cursor), the client narrows it to what it sends.
type Hub = components['schemas'];
export type SubmitOp = Omit<Hub['SubmitOp'], 'changes'> & { changes?: Record<string, unknown> | null };
export type AppliedOp = Omit<Hub['AppliedOp'], 'op'> & { op: SubmitOp };
export type Participant = Hub['Participant'];
export type Presence = Omit<Hub['Presence'], 'cursor' | 'selection'> & { cursor?: { x: number; y: number } | null; selection?: string[] | null };
export type Comment = Hub['CommentDto'];
type Snapshot = Omit<Hub['ImageSnapshot'], 'annotations'> & { annotations: Annotation[] };
type Resume = Omit<Hub['ResumeResult'], 'ops' | 'snapshot'> & { ops: AppliedOp[]; snapshot?: Snapshot | null };
type Ack = Hub['OpAck'];
type PresenceChanged = Omit<Hub['PresenceChanged'], 'presence'> & { presence: Presence };
type StatusChanged = Hub['ImageStatusChanged'];

/**
 * What the live image tells the page, typed (the hub's messages keep their wire format; this is the client's view).
 * `shapes`: these annotation ids changed (null: any); `confirmed` when the server applied them (not a local edit).
 */
export type LiveEvent =
  | { type: 'shapes'; changed: string[] | null; confirmed: boolean }
  | { type: 'status'; status: ImageStatus; by: string }
  | { type: 'work'; state: WorkState }
  | { type: 'comment-added'; comment: Comment }
  | { type: 'comment-changed'; comment: Comment }
  | { type: 'comments-loaded' }
  | { type: 'presence' }
  | { type: 'connection'; connected: boolean }
  | { type: 'rejected'; reason: string };

/**
 * One image, live: the server's state (every Applied op in seq order) plus this user's ops not yet confirmed,
 * applied on top so edits show at once and settle into the server's order (Figma's model). When the connection
 * drops, edits keep going into the pending list; on reconnect, Resume replays what was missed and every pending op
 * is resubmitted with its clientOpId, so nothing is lost and nothing is applied twice.
 */
export class LiveImage {
  readonly confirmed = new Map<string, Shape>();
  pending: SubmitOp[] = [];
  seq = 0;
  connected = false;
  participants = new Map<string, Participant>();
  presence = new Map<string, Presence>();
  comments = new Map<string, Comment>();
  onEvent: (event: LiveEvent) => void = () => {};

  private readonly connection: signalR.HubConnection;
  private readonly session = Math.random().toString(36).slice(2, 10);
  private counter = 0;
  private held = new Map<number, AppliedOp>(); // arrived ahead of a gap; applied when the gap fills
  private presenceTimer: number | undefined;
  private presenceLatest: Presence | undefined;
  private presenceSentAt = 0;
  private stopped = false;

  constructor(readonly imageId: string, readonly user: string) {
    this.connection = new signalR.HubConnectionBuilder()
      // The session cookie says who this is. WebSockets straight away, without the negotiate round trip: behind a
      // load balancer without sticky sessions (several servers) the negotiate and the socket may reach different
      // processes, and a connection id one made is unknown to the other.
      .withUrl('/hubs/annotations', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
      .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => Math.min(5000, 250 * 2 ** ctx.previousRetryCount) })
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    this.connection.on('Applied', (op: AppliedOp) => this.arrive(op));
    this.connection.on('ParticipantJoined', (_image: string, p: Participant) => { this.participants.set(p.connectionId, p); this.onEvent({ type: 'presence' }); });
    this.connection.on('ParticipantLeft', (_image: string, p: Participant) => { this.participants.delete(p.connectionId); this.presence.delete(p.connectionId); this.onEvent({ type: 'presence' }); });
    this.connection.on('PresenceChanged', (e: PresenceChanged) => {
      this.participants.set(e.participant.connectionId, e.participant);
      this.presence.set(e.participant.connectionId, e.presence);
      this.onEvent({ type: 'presence' });
    });
    this.connection.on('ImageStatusChanged', (e: StatusChanged) => this.onEvent({ type: 'status', status: e.status, by: e.by }));
    this.connection.on('WorkChanged', (state: WorkState) => { if (state.imageId === this.imageId) this.onEvent({ type: 'work', state }); });
    this.connection.on('CommentAdded', (c: Comment) => {
      if (this.comments.has(c.id)) return; // ours, already added from the call's answer
      this.comments.set(c.id, c);
      this.onEvent({ type: 'comment-added', comment: c });
    });
    this.connection.on('CommentChanged', (c: Comment) => { this.comments.set(c.id, c); this.onEvent({ type: 'comment-changed', comment: c }); });
    this.connection.onreconnecting(() => this.setConnected(false));
    this.connection.onreconnected(() => this.resume());
    // Closed by stop() (the page was left): nothing to say, nobody to say it to.
    this.connection.onclose(() => { if (this.stopped) return; this.setConnected(false); this.restartLater(); });
    // A socket can outlive the network for a long time before it notices; the browser knows at once.
    window.addEventListener('offline', this.wentOffline);
    window.addEventListener('online', this.cameOnline);
  }

  private readonly wentOffline = () => { this.setConnected(false); this.connection.stop(); };
  private readonly cameOnline = () => { if (this.connection.state === signalR.HubConnectionState.Disconnected) this.restartLater(0); };

  async start(): Promise<void> {
    // The page may have been left while it was still opening (quick ←/→): then it never joins, and whatever
    // connection started meanwhile is closed, so no stray participant or socket stays behind.
    if (this.stopped) return;
    if (this.connection.state === signalR.HubConnectionState.Disconnected) await this.connection.start();
    if (this.stopped) { await this.connection.stop(); return; }
    const snapshot = await this.connection.invoke<Snapshot>('JoinImage', this.imageId);
    this.load(snapshot);
    this.setConnected(true);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    window.removeEventListener('offline', this.wentOffline);
    window.removeEventListener('online', this.cameOnline);
    await this.connection.stop();
  }

  /** The shapes to draw: the server's state with this user's pending ops applied on top. */
  shapes(): Map<string, Shape> {
    if (this.pending.length === 0) return this.confirmed;
    const view = new Map(this.confirmed);
    for (const op of this.pending) apply(view, op);
    return view;
  }

  /** Set while the user may not change the image (a viewer; a submitted or approved image): no op leaves this page
   *  (the server would refuse it anyway); the reason is said instead. */
  readOnly: string | null = null;

  /** The attribute values a new shape of a label starts with (the editor sets it from the labels' definitions). */
  attributeDefaults?: (labelId: string) => Record<string, unknown> | undefined;

  create(id: string, changes: { labelId: string; kind: Kind; geometry: GeometryJson; state?: State; attributes?: Record<string, unknown> }): void {
    if (this.refuseReadOnly()) return;
    const defaults = changes.attributes === undefined ? this.attributeDefaults?.(changes.labelId) : undefined;
    if (defaults) changes = { ...changes, attributes: defaults };
    this.submit({ clientOpId: this.nextId(), imageId: this.imageId, type: 'create', annotationId: id, changes });
  }
  update(id: string, changes: Record<string, unknown>): void {
    if (this.refuseReadOnly()) return;
    this.submit({ clientOpId: this.nextId(), imageId: this.imageId, type: 'update', annotationId: id, changes });
  }
  remove(id: string): void {
    if (this.refuseReadOnly()) return;
    this.submit({ clientOpId: this.nextId(), imageId: this.imageId, type: 'delete', annotationId: id });
  }

  private refuseReadOnly(): boolean {
    if (this.readOnly) this.onEvent({ type: 'rejected', reason: `read only: ${this.readOnly}` });
    return !!this.readOnly;
  }

  // The workflow (everyone on the image receives WorkChanged, and ImageStatusChanged when the status moved). A refusal
  // rejects the promise with the server's "HubException: STATUS Title: detail" (work.ts hubProblem reads it).
  submitImage(): Promise<WorkState> { return this.connection.invoke<WorkState>('SubmitImage', this.imageId); }
  approveImage(): Promise<WorkState> { return this.connection.invoke<WorkState>('ApproveImage', this.imageId); }
  rejectImage(reason: string, comment: string | null): Promise<WorkState> { return this.connection.invoke<WorkState>('RejectImage', this.imageId, { reason, comment }); }
  reopenImage(): Promise<WorkState> { return this.connection.invoke<WorkState>('ReopenImage', this.imageId); }
  renewLease(): Promise<WorkState> { return this.connection.invoke<WorkState>('RenewLease', this.imageId); }
  releaseLease(): Promise<WorkState> { return this.connection.invoke<WorkState>('ReleaseLease', this.imageId); }
  /** Activity for active time (activity.ts); fire-and-forget, and nothing when the connection is down. */
  reportActivity(hidden: boolean): Promise<void> {
    return this.connection.state === signalR.HubConnectionState.Connected ? this.connection.send('ReportActivity', this.imageId, hidden) : Promise.resolve();
  }

  /** A new thread pinned at (x, y), or with parentId a reply to a thread. */
  async addComment(x: number, y: number, text: string, parentId?: string): Promise<Comment> {
    const c = await this.connection.invoke<Comment>('AddComment', this.imageId, { x, y, text, parentId: parentId ?? null });
    if (!this.comments.has(c.id)) {
      this.comments.set(c.id, c);
      this.onEvent({ type: 'comment-added', comment: c });
    }
    return c;
  }

  resolveComment(id: string, resolved: boolean): Promise<void> { return this.connection.invoke('ResolveComment', this.imageId, id, resolved); }

  async undo(redo = false): Promise<string | null> {
    const ack = await this.connection.invoke<Ack>(redo ? 'Redo' : 'Undo', this.imageId);
    return ack.rejected ?? null;
  }

  /** At most one presence message per 50 ms, and the latest one always goes out (trailing edge). */
  sendPresence(presence: Presence): void {
    this.presenceLatest = presence;
    if (this.presenceTimer !== undefined || !this.connected) return;
    const wait = Math.max(0, 50 - (performance.now() - this.presenceSentAt));
    this.presenceTimer = window.setTimeout(() => {
      this.presenceTimer = undefined;
      this.presenceSentAt = performance.now();
      if (this.connected && this.presenceLatest) this.connection.send('UpdatePresence', this.imageId, this.presenceLatest).catch(() => {});
    }, wait);
  }

  private nextId(): string { return `${this.session}-${++this.counter}`; }

  private submit(op: SubmitOp): void {
    this.pending.push(op);
    this.onEvent({ type: 'shapes', changed: [op.annotationId], confirmed: false });
    if (this.connected) this.send(op);
  }

  private async send(op: SubmitOp): Promise<void> {
    let ack: Ack;
    try { ack = await this.connection.invoke<Ack>('Submit', op); }
    catch (err) {
      // Offline: it stays pending and is resubmitted after Resume. The server refused the call itself (the op does
      // not bind, e.g. an unknown type): resubmitting would fail forever, so it is dropped, and said.
      // (The client turns a server error into an Error whose message carries the server's "HubException: …".)
      if (!String((err as Error)?.message ?? '').includes('HubException')) return;
      ack = { clientOpId: op.clientOpId, seq: null, rejected: (err as Error).message };
    }
    if (ack.seq === null || ack.seq === undefined) {
      this.pending = this.pending.filter(p => p.clientOpId !== op.clientOpId);
      this.onEvent({ type: 'rejected', reason: ack.rejected ?? 'refused' });
      this.onEvent({ type: 'shapes', changed: [op.annotationId], confirmed: false });
    }
  }

  private load(snapshot: Snapshot): void {
    this.confirmed.clear();
    for (const a of snapshot.annotations) this.confirmed.set(a.id, fromAnnotation(a));
    this.seq = snapshot.seq;
    this.held.clear();
    this.participants = new Map(snapshot.participants.map(p => [p.connectionId, p]));
    this.comments = new Map((snapshot.comments ?? []).map(c => [c.id, c]));
    this.onEvent({ type: 'comments-loaded' });
    this.onEvent({ type: 'presence' });
    this.onEvent({ type: 'shapes', changed: null, confirmed: true });
  }

  private arrive(applied: AppliedOp): void {
    if (applied.seq <= this.seq) return;
    this.held.set(applied.seq, applied);
    const changed: string[] = [];
    for (let next = this.held.get(this.seq + 1); next; next = this.held.get(this.seq + 1)) {
      this.held.delete(next.seq);
      apply(this.confirmed, next.op);
      this.seq = next.seq;
      if (next.authorId === this.user) this.pending = this.pending.filter(p => p.clientOpId !== next!.op.clientOpId);
      changed.push(next.op.annotationId);
    }
    if (changed.length) this.onEvent({ type: 'shapes', changed, confirmed: true });
    if (this.held.size > 0 && this.connected) window.setTimeout(() => { if (this.held.size > 0) this.resume(); }, 1000); // a gap that does not fill
  }

  private async resume(): Promise<void> {
    try {
      const result = await this.connection.invoke<Resume>('Resume', this.imageId, this.seq);
      if (result.snapshot) this.load(result.snapshot);
      for (const op of result.ops) this.arrive(op);
      this.setConnected(true);
      for (const op of [...this.pending]) await this.send(op); // same clientOpIds: ops the server already has are acked, not applied again
    } catch { this.setConnected(false); }
  }

  /** Keeps trying to connect (every 2 s) until it does; then joins as start() would. */
  retry(): Promise<void> {
    return new Promise(resolve => {
      const attempt = () => window.setTimeout(async () => {
        if (this.stopped) return;
        try { await this.start(); resolve(); } catch { attempt(); }
      }, 2000);
      attempt();
    });
  }

  private restarting = false;

  private restartLater(delay = 2000): void {
    if (this.restarting) return;
    this.restarting = true;
    window.setTimeout(async () => {
      this.restarting = false;
      if (this.stopped || this.connection.state !== signalR.HubConnectionState.Disconnected) return;
      if (!navigator.onLine) { this.restartLater(); return; }
      try { await this.connection.start(); await this.resume(); } catch { this.restartLater(); }
    }, delay);
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.onEvent({ type: 'connection', connected });
  }
}

/** Applies one op to a shape map (server order, or a pending op on top of it). */
function apply(shapes: Map<string, Shape>, op: SubmitOp): void {
  const c = (op.changes ?? {}) as Record<string, any>;
  if (op.type === 'delete') { shapes.delete(op.annotationId); return; }
  const current = shapes.get(op.annotationId);
  if (op.type === 'update' && !current) return;
  const s: Shape = current ? { ...current } : {
    id: op.annotationId, labelId: c.labelId, kind: c.kind, geometry: c.geometry, state: c.state ?? 'accepted',
    source: c.source ?? { type: 'human' }, attributes: c.attributes ?? {}, bounds: [0, 0, 0, 0],
  };
  if (c.labelId !== undefined) s.labelId = c.labelId;
  if (c.kind !== undefined) s.kind = c.kind;
  if (c.geometry !== undefined) s.geometry = c.geometry;
  if (c.state !== undefined) s.state = c.state;
  if (c.attributes !== undefined) s.attributes = c.attributes;
  s.bounds = bounds(s.kind, s.geometry);
  shapes.set(op.annotationId, s);
}
