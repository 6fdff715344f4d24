import * as signalR from '@microsoft/signalr';
import type { Job, Notification, QualityScored } from './api';

/**
 * /hubs/live, one connection per signed-in tab, shared by whatever page is showing: the notification bell (every
 * connection receives its own user's `Notification` events) and a project page's job and import progress
 * (`WatchProject`). Pages come and go; the connection stays, reconnects by itself, and watches again what was watched.
 */
class LiveHub {
  private readonly connection = new signalR.HubConnectionBuilder()
    // WebSockets without negotiating first: see editor/live.ts (several servers, no sticky sessions).
    .withUrl('/hubs/live', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => Math.min(10_000, 500 * 2 ** ctx.previousRetryCount) })
    .configureLogging(signalR.LogLevel.Warning).build();
  private starting: Promise<void> | undefined;
  /** Projects watched, with how many pages watch each. */
  private readonly watched = new Map<string, number>();
  private readonly reconnected = new Set<() => void>();

  constructor() {
    this.connection.onreconnected(() => this.rejoin());
    // Automatic reconnection gives up after a while (the server was down for long): keep trying, more slowly.
    this.connection.onclose(() => { this.starting = undefined; window.setTimeout(() => this.start().catch(() => {}), 5000); });
  }

  /** Starts the connection once; later calls wait for the same start. */
  start(): Promise<void> {
    this.starting ??= this.connection.start().then(() => this.rejoin(), err => { this.starting = undefined; throw err; });
    return this.starting;
  }

  /** Listens to a server event; returns the function that stops listening. */
  on<T extends unknown[]>(event: string, handler: (...args: T) => void): () => void {
    const h = handler as (...args: unknown[]) => void;
    this.connection.on(event, h);
    return () => this.connection.off(event, h);
  }

  /** Called after each reconnection (what was missed meanwhile can be read again). */
  onReconnected(fn: () => void): () => void {
    this.reconnected.add(fn);
    return () => { this.reconnected.delete(fn); };
  }

  /** Quality figures of a project (reviewers and owners: the server refuses others). */
  private readonly quality = new Set<string>();

  async watchQuality(projectId: string): Promise<void> {
    this.quality.add(projectId);
    await this.start();
    await this.connection.invoke('WatchQuality', projectId);
  }

  unwatchQuality(projectId: string): void {
    this.quality.delete(projectId);
    if (this.connection.state === signalR.HubConnectionState.Connected) this.connection.invoke('UnwatchQuality', projectId).catch(() => {});
  }

  async watchProject(projectId: string): Promise<void> {
    this.watched.set(projectId, (this.watched.get(projectId) ?? 0) + 1);
    await this.start();
    await this.connection.invoke('WatchProject', projectId);
  }

  unwatchProject(projectId: string): void {
    const n = (this.watched.get(projectId) ?? 1) - 1;
    if (n > 0) { this.watched.set(projectId, n); return; }
    this.watched.delete(projectId);
    if (this.connection.state === signalR.HubConnectionState.Connected) this.connection.invoke('UnwatchProject', projectId).catch(() => {});
  }

  private async rejoin(): Promise<void> {
    for (const id of this.watched.keys()) await this.connection.invoke('WatchProject', id).catch(() => {});
    for (const id of this.quality) await this.connection.invoke('WatchQuality', id).catch(() => {});
    for (const fn of this.reconnected) fn();
  }
}

export const liveHub = new LiveHub();

/**
 * /hubs/live for a project page: job progress and dataset-import progress, each recorded workflow change
 * (`WorkLanded`), and each submission's quality figure
 * (`QualityScored`, for images with ground truth), as they happen; `onReconnected` after a reconnection (what was
 * missed meanwhile can be read again).
 */
export class ProjectEvents {
  onJob: (job: Job) => void = () => {};
  onImport: (done: number, total: number) => void = () => {};
  onQuality: (figure: QualityScored) => void = () => {};
  /** A recorded workflow change (submitted, approved, rejected, …) of one of the project's images. */
  onWork: (imageId: string, kind: string) => void = () => {};
  onReconnected: () => void = () => {};
  private readonly off: (() => void)[] = [];
  private watching = false;
  private watchingQuality = false;

  constructor(private readonly projectId: string) {
    this.off.push(liveHub.on('JobProgress', (job: Job) => this.onJob(job)));
    this.off.push(liveHub.on('ImportProgress', (_project: string, p: { imagesDone: number; imagesTotal: number }) => this.onImport(p.imagesDone, p.imagesTotal)));
    this.off.push(liveHub.on('WorkLanded', (project: string, w: { imageId: string; kind: string }) => { if (project === this.projectId) this.onWork(w.imageId, w.kind); }));
    this.off.push(liveHub.on('QualityScored', (q: QualityScored) => { if (q.projectId === this.projectId) this.onQuality(q); }));
    this.off.push(liveHub.onReconnected(() => this.onReconnected()));
  }

  async start(): Promise<void> {
    this.watching = true;
    await liveHub.watchProject(this.projectId);
  }

  /** Also the project's quality figures (the Quality page; reviewers and owners). */
  async startQuality(): Promise<void> {
    this.watchingQuality = true;
    await liveHub.watchQuality(this.projectId);
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
    if (this.watching) liveHub.unwatchProject(this.projectId);
    if (this.watchingQuality) liveHub.unwatchQuality(this.projectId);
    this.watching = false;
    this.watchingQuality = false;
  }
}

/** The signed-in user's notifications as they arrive (the bell and the My work page listen). */
export function onNotification(fn: (n: Notification) => void): () => void {
  liveHub.start().catch(() => {});
  return liveHub.on('Notification', fn);
}
