import * as signalR from '@microsoft/signalr';
import type { Job } from './api';

/** /hubs/live for a project page: job progress and dataset-import progress, as they happen. */
export class ProjectEvents {
  private readonly connection = new signalR.HubConnectionBuilder()
    // WebSockets without negotiating first: see editor/live.ts (several servers, no sticky sessions).
    .withUrl('/hubs/live', { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
    .withAutomaticReconnect().configureLogging(signalR.LogLevel.Warning).build();
  onJob: (job: Job) => void = () => {};
  onImport: (done: number, total: number) => void = () => {};

  constructor(private readonly projectId: string) {
    this.connection.on('JobProgress', (job: Job) => this.onJob(job));
    this.connection.on('ImportProgress', (_project: string, p: { imagesDone: number; imagesTotal: number }) => this.onImport(p.imagesDone, p.imagesTotal));
    this.connection.onreconnected(() => this.connection.invoke('WatchProject', this.projectId));
  }

  async start(): Promise<void> {
    await this.connection.start();
    await this.connection.invoke('WatchProject', this.projectId);
  }

  stop(): Promise<void> { return this.connection.stop(); }
}
