// REST client for the server's /api. Errors are the server's ProblemDetails, surfaced with their detail text.
import { toSignIn, xsrfToken } from './session';
import { filterQuery, type ImageFilter } from './image-filters';

// Types of the server's API, generated from its OpenAPI document (web/openapi.json → src/api-schema.d.ts by
// `npm run gen-api`; the server writes the document with `visionlabel openapi --out web/openapi.json`, and a test
// fails when the committed copy is out of date). Only geometry and attributes are refined here: the document calls
// them free JSON, the editor knows their shape by kind.
import type { components } from './api-schema';
type Schemas = components['schemas'];

export type Label = Schemas['LabelDto'];
export type LabelAttribute = Schemas['LabelAttribute'];
export type NewLabel = Schemas['CreateLabelRequest'];
/** The keys a label can have, in the order new labels get them (Projects/LabelRules.Hotkeys on the server). */
/** The colours new labels get in order (the server's palette, Projects/LabelRules.cs): the forms start with them. */
export const labelPalette = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
  '#bfef45', '#fabed4', '#469990', '#dcbeff', '#9a6324', '#fffac8', '#800000', '#aaffc3'] as const;
export const labelKeys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', 'q', 'w', 't', 'u', 'o', 'd', 'g', 'j', 'n', 'z'] as const;
export type Project = Schemas['ProjectDto'];
export type ImageStatus = Schemas['ImageStatus'];
export type ImageInfo = Schemas['ImageDto'];
export type ImagePage = Schemas['ImagePage'];
export type Kind = Schemas['AnnotationKind'];
export type State = Schemas['AnnotationState'];
export type Source = Schemas['AnnotationSourceDto'];
export type Model = Schemas['ModelDto'];
export type JobStatus = Schemas['JobStatus'];
export type Job = Schemas['JobDto'];
/** POST …/prelabel's choices besides the model (PrelabelRequest). */
export type PrelabelOptions = Partial<Omit<Schemas['PrelabelRequest'], 'modelId'>>;
export type JobItem = Schemas['JobItemDto'];
export type ImportReport = Schemas['ImportReport'];
export type UploadSummary = Schemas['UploadSummary'];
export type ProjectStats = Schemas['ProjectStatsDto'];
export type DatasetFormat = Schemas['DatasetFormatInfo'];
// Work distribution (issue #22): the queue, leases, the workflow state of an image, assignments, notifications.
export type Workflow = Schemas['WorkflowDto'];
export type WorkflowPatch = Schemas['WorkflowPatch'];
export type WorkStage = Schemas['WorkStage'];
export type WorkState = Schemas['WorkStateDto'];
export type WorkEvent = Schemas['WorkEventDto'];
export type ImageWork = Schemas['ImageWorkDto'];
export type Lease = Schemas['LeaseDto'];
export type WorkImage = Schemas['WorkImage'];
export type MyWork = Schemas['MyWorkDto'];
export type WorkOverview = Schemas['WorkOverviewDto'];
export type HeldLease = Schemas['HeldLease'];
export type PersonWork = Schemas['PersonWork'];
export type AssignmentResult = Schemas['AssignmentResult'];
export type Notification = Schemas['NotificationDto'];
export type NotificationList = Schemas['NotificationList'];
// Quality (issue #23): ground truth and the reports scored against it (docs/quality.md).
export type QualityGrouping = Schemas['QualityGrouping'];
export type QualityReport = Schemas['QualityReport'];
export type QualityRow = Schemas['QualityRow'];
export type ConfusionCount = Schemas['ConfusionCount'];
export type QualityScored = Schemas['QualityScored'];
export type GroundTruthSummary = Schemas['GroundTruthSummary'];
export type GroundTruthReport = Schemas['GroundTruthReport'];
// Honeypots, onboarding and consensus (docs/quality.md): feedback on a honeypot's submit, private copies, flags on the truth.
export type SubmissionFeedback = Schemas['SubmissionFeedback'];
export type Onboarding = Schemas['OnboardingState'];
export type Replicas = Schemas['ReplicasDto'];
export type Replica = Schemas['ReplicaDto'];
export type GroundTruthFlag = Schemas['GroundTruthFlag'];
// People and data (issue #24, docs/analytics.md): each person's KPIs, and dataset health.
export type PeopleReport = Schemas['PeopleReport'];
export type PersonKpis = Schemas['PersonKpis'];
export type BiasReport = Schemas['BiasReport'];
export type AnnotatorBiasRow = Schemas['AnnotatorBiasRow'];
export type Health = Schemas['HealthDto'];
export type HealthRequest = Schemas['HealthRequest'];
// Models in the loop (issue #25, docs/models-in-the-loop.md): how each model's proposals ended.
export type ModelWithProposals = Schemas['ModelWithProposals'];
export type OutcomeReport = Schemas['OutcomeReport'];
export type PredictionsReport = Schemas['PredictionsReport'];
export type OutcomeRow = Schemas['OutcomeRow'];
export type ThresholdAdvice = Schemas['ThresholdAdvice'];
export type TimeSaved = Schemas['TimeSaved'];
// Box → mask and click → mask (docs/models-in-the-loop.md): a prompt in image pixels, the mask the server made of it.
export type SegmentRequest = Schemas['SegmentRequest'];
export type SegmentResult = Schemas['SegmentResult'];
export type ComparisonSummary = Schemas['ComparisonSummary'];
export type ComparisonReport = Schemas['ComparisonReport'];
export type LeaderboardRow = Schemas['LeaderboardRow'];
export type PairToJudge = Schemas['PairToJudge'];
export type ComparisonOutput = Schemas['ComparisonOutputDto'];
export type Judgement = Schemas['JudgementDto'];
export type Judged = Schemas['JudgedDto'];
// Webhooks (issue #27, docs/webhooks.md): a project's hooks, their deliveries and each attempt.
export type Webhook = Schemas['WebhookDto'];
export type WebhookCreated = Schemas['WebhookCreated'];
export type WebhookDelivery = Schemas['WebhookDeliveryDto'];
export type WebhookDeliveryLog = Schemas['WebhookDeliveryLog'];
export type StartComparison = Schemas['StartComparisonRequest'];
// Scissors (live-wire): paths along edges from an anchor to each target, in image pixels.
export type ScissorsRequest = Schemas['ScissorsRequest'];
export type ScissorsResult = Schemas['ScissorsResult'];
/** POST …/ground-truth/from-approved answers this (the OpenAPI document calls it free JSON). */
export interface FromApproved { imageId: string; annotations: number }

export interface Box { x: number; y: number; width: number; height: number }
export interface Polygon { rings: number[][] }
export interface Mask { size: [number, number]; counts: string; polygons?: number[][] }
export type GeometryJson = Box | Polygon | Mask;
export type Annotation = Omit<Schemas['AnnotationDto'], 'geometry' | 'attributes'> & { geometry: GeometryJson; attributes: Record<string, unknown> };
// An image's history from its op log (docs/realtime-protocol.md, "History"): who did what when, and the state then.
export type HistoryItem = Schemas['HistoryItem'];
export type HistoryPage = Schemas['HistoryPage'];
export type HistoricAnnotation = Omit<Schemas['HistoricAnnotation'], 'geometry' | 'attributes'> & { geometry: GeometryJson; attributes: Record<string, unknown> };
export type HistoryState = Omit<Schemas['HistoryState'], 'annotations'> & { annotations: HistoricAnnotation[] };

/** A server time as a Date: the server writes UTC; a time without a zone is read as UTC too, never as local time. */
export function utc(time: string): Date {
  return new Date(/(?:Z|[+-]\d\d:?\d\d)$/.test(time) ? time : `${time}Z`);
}

/** "4:05" (minutes:seconds) or "1:02:05" until a time; "0:00" once it has passed. */
export function remaining(until: string, now = Date.now()): string {
  const s = Math.max(0, Math.floor((utc(until).getTime() - now) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A refusal's ProblemDetails as the server sent it (title, detail, field errors and any extension such as guidelineVersion). */
export type Problem = { title?: string; detail?: string; errors?: Record<string, string[]> } & Record<string, unknown>;

export class ApiError extends Error {
  constructor(public status: number, message: string, public problem?: Problem) { super(message); }
}

/**
 * What to tell the user about a failed request: the server's ProblemDetails detail, else the first field error of a
 * validation problem (the framework's own validation sends only those, under a generic title), else its title.
 */
function problemMessage(problem: { detail?: string; title?: string; errors?: Record<string, string[]> } | undefined, response: { status: number; statusText: string }): string {
  const field = problem?.errors ? Object.entries(problem.errors)[0] : undefined;
  const fieldMessage = field ? `${field[0]}: ${field[1][0]}` : undefined;
  return problem?.detail ?? fieldMessage ?? problem?.title ?? `${response.status} ${response.statusText}`;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  // Changes carry the antiforgery token: the session cookie alone does not prove the request came from this app.
  const headers: Record<string, string> = method === 'GET' ? {} : { 'X-XSRF-TOKEN': xsrfToken() };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['content-type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (response.status === 401) toSignIn(); // the session ended (signed out elsewhere, password changed, account disabled)
  if (!response.ok) throw new ApiError(response.status, problemMessage(json, response), json);
  return json as T;
}

/** A multipart POST with upload progress (XMLHttpRequest: fetch cannot report how much of a body has gone). */
function sendWithProgress<T>(path: string, form: FormData, progress: (sent: number, total: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('X-XSRF-TOKEN', xsrfToken());
    xhr.upload.onprogress = e => { if (e.lengthComputable) progress(e.loaded, e.total); };
    xhr.onload = () => {
      let json: unknown;
      try { json = xhr.responseText ? JSON.parse(xhr.responseText) : undefined; } catch { json = undefined; }
      if (xhr.status === 401) toSignIn();
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T);
      else reject(new ApiError(xhr.status, problemMessage(json as Parameters<typeof problemMessage>[0], { status: xhr.status, statusText: xhr.statusText })));
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload was interrupted; check the connection and try again'));
    xhr.send(form);
  });
}

export const api = {
  members: (projectId: string) => request<import('./session').Member[]>('GET', `/api/projects/${projectId}/members`),
  addMember: (projectId: string, user: string, role: string) => request<unknown>('POST', `/api/projects/${projectId}/members`, { user, role }),
  changeMember: (projectId: string, userId: string, role: string) => request<unknown>('PATCH', `/api/projects/${projectId}/members/${userId}`, { role }),
  removeMember: (projectId: string, userId: string) => request<void>('DELETE', `/api/projects/${projectId}/members/${userId}`),
  webhookEvents: () => request<string[]>('GET', '/api/webhook-events'),
  webhooks: (projectId: string) => request<Webhook[]>('GET', `/api/projects/${projectId}/webhooks`),
  createWebhook: (projectId: string, url: string, events: string[]) => request<WebhookCreated>('POST', `/api/projects/${projectId}/webhooks`, { url, events }),
  deleteWebhook: (projectId: string, id: string) => request<void>('DELETE', `/api/projects/${projectId}/webhooks/${id}`),
  webhookDeliveries: (projectId: string, id: string) => request<WebhookDeliveryLog[]>('GET', `/api/projects/${projectId}/webhooks/${id}/deliveries`),
  redeliver: (projectId: string, id: string, deliveryId: string) =>
    request<WebhookDelivery>('POST', `/api/projects/${projectId}/webhooks/${id}/deliveries/${deliveryId}/redeliver`),
  users: () => request<unknown[]>('GET', '/api/users'),
  createUser: (user: { userName: string; email: string | null; password: string; isAdmin: boolean }) => request<unknown>('POST', '/api/users', user),
  updateUser: (id: string, changes: { isAdmin?: boolean; disabled?: boolean; password?: string }) => request<unknown>('PATCH', `/api/users/${id}`, changes),
  tokens: () => request<unknown[]>('GET', '/api/account/tokens'),
  createToken: (name: string, scope: 'read' | 'write' | 'metrics', expiresInDays?: number) =>
    request<{ token: string }>('POST', '/api/account/tokens', { name, scope, expiresInDays }),
  revokeToken: (id: string) => request<void>('DELETE', `/api/account/tokens/${id}`),
  changePassword: (currentPassword: string, newPassword: string) => request<void>('POST', '/api/account/password', { currentPassword, newPassword }),
  projects: (archived = false) => request<Project[]>('GET', `/api/projects${archived ? '?archived=true' : ''}`),
  archiveProject: (id: string, archive: boolean) => request<Project>('POST', `/api/projects/${id}/${archive ? 'archive' : 'unarchive'}`),
  archiveImage: (id: string, archive: boolean) => request<ImageInfo>('POST', `/api/images/${id}/${archive ? 'archive' : 'unarchive'}`),
  project: (id: string) => request<Project>('GET', `/api/projects/${id}`),
  updateWorkflow: (id: string, workflow: WorkflowPatch) => request<Project>('PATCH', `/api/projects/${id}`, { workflow }),
  /** Leases the next image of a stage; undefined (204) when nothing is left for the caller. */
  queueNext: (projectId: string, stage: WorkStage) => request<Lease | undefined>('POST', `/api/projects/${projectId}/queue/next`, { stage }),
  myWork: (projectId: string) => request<MyWork>('GET', `/api/projects/${projectId}/queue/mine`),
  workOverview: (projectId: string) => request<WorkOverview>('GET', `/api/projects/${projectId}/work`),
  assign: (projectId: string, stage: WorkStage, imageIds: string[], assignee: string | null) =>
    request<AssignmentResult>('PUT', `/api/projects/${projectId}/assignments`, { stage, imageIds, assignee }),
  distribute: (projectId: string, stage: WorkStage, count: number, people: string[]) =>
    request<AssignmentResult>('POST', `/api/projects/${projectId}/assignments/distribute`, { stage, count, people }),
  imageWork: (imageId: string) => request<ImageWork>('GET', `/api/images/${imageId}/work`),
  releaseLease: (imageId: string) => request<WorkState>('POST', `/api/images/${imageId}/lease/release`),
  notifications: () => request<NotificationList>('GET', '/api/notifications'),
  markRead: (which: { ids: string[] } | { all: true }) => request<NotificationList>('POST', '/api/notifications/read', which),
  stats: () => request<ProjectStats[]>('GET', '/api/projects/stats'),
  createLabel: (projectId: string, label: NewLabel) => request<Label>('POST', `/api/projects/${projectId}/labels`, label),
  updateLabel: (projectId: string, labelId: string, changes: Schemas['UpdateLabelRequest']) => request<Label>('PATCH', `/api/projects/${projectId}/labels/${labelId}`, changes),
  deleteImage: (imageId: string) => request<void>('DELETE', `/api/images/${imageId}`),
  deleteProject: (projectId: string) => request<void>('DELETE', `/api/projects/${projectId}`),
  deleteLabel: (projectId: string, labelId: string, withAnnotations: boolean) =>
    request<void>('DELETE', `/api/projects/${projectId}/labels/${labelId}${withAnnotations ? '?deleteAnnotations=true' : ''}`),
  createProject: (name: string, labels: NewLabel[]) => request<Project>('POST', '/api/projects', { name, labels }),
  /** A page of the project's images; a string is a status filter, an ImageFilter any of the list's filters (image-filters.ts). */
  images: (projectId: string, offset: number, limit: number, filter?: string | ImageFilter) => {
    const query = filterQuery(typeof filter === 'string' ? { status: filter } : filter ?? {});
    query.set('offset', String(offset));
    query.set('limit', String(limit));
    return request<ImagePage>('GET', `/api/projects/${projectId}/images?${query}`);
  },
  image: (id: string) => request<ImageInfo>('GET', `/api/images/${id}`),
  /** A page of the image's history, newest first: the ops before `before` (all when absent), at most `limit`. */
  history: (imageId: string, before?: number | null, limit = 50) =>
    request<HistoryPage>('GET', `/api/images/${imageId}/history?limit=${limit}${before ? `&before=${before}` : ''}`),
  /** The image's annotations right after op `seq`, replayed from the log. */
  historyState: (imageId: string, seq: number) => request<HistoryState>('GET', `/api/images/${imageId}/history/${seq}/state`),
  models: () => request<Model[]>('GET', '/api/models'),
  datasetFormats: () => request<DatasetFormat[]>('GET', '/api/dataset-formats'),
  uploadModel: (file: File, names?: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    if (names) form.append('names', names, names.name);
    return request<Model>('POST', '/api/models', form);
  },
  prelabel: (projectId: string, modelId: string, options: PrelabelOptions = {}) => request<Job>('POST', `/api/projects/${projectId}/prelabel`, { modelId, ...options }),
  projectJobs: (projectId: string) => request<Job[]>('GET', `/api/projects/${projectId}/jobs`),
  cancelJob: (id: string) => request<Job>('POST', `/api/jobs/${id}/cancel`),
  job: (id: string) => request<Job>('GET', `/api/jobs/${id}`),
  failedItems: (id: string) => request<JobItem[]>('GET', `/api/jobs/${id}/items?status=failed`),
  importDataset: (projectId: string, format: string, zip: File) => {
    const form = new FormData();
    form.append('file', zip, zip.name);
    // 202: the import runs as a job; its progress comes over the live hub and its report is the finished job's importReport.
    return request<Job>('POST', `/api/projects/${projectId}/import?format=${format}`, form);
  },
  /** One file, with upload progress (XMLHttpRequest: fetch cannot report how much of a body has gone). */
  uploadWithProgress: (projectId: string, file: File, progress: (sent: number, total: number) => void) => new Promise<UploadSummary>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/projects/${projectId}/images`);
    xhr.setRequestHeader('X-XSRF-TOKEN', xsrfToken());
    xhr.upload.onprogress = e => { if (e.lengthComputable) progress(e.loaded, e.total); };
    xhr.onload = () => {
      const json = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      // A refused file is a 400 whose body still lists each file's outcome.
      if (json?.files) resolve(json as UploadSummary);
      else reject(new ApiError(xhr.status, json?.detail ?? json?.title ?? `${xhr.status} ${xhr.statusText}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload was interrupted; check the connection and try again'));
    const form = new FormData();
    form.append('files', file, file.name);
    xhr.send(form);
  }),
  quality: (projectId: string, groupBy: QualityGrouping, iou: number) =>
    request<QualityReport>('GET', `/api/projects/${projectId}/quality?groupBy=${groupBy}&iou=${iou}`),
  groundTruth: (projectId: string) => request<GroundTruthSummary>('GET', `/api/projects/${projectId}/ground-truth`),
  removeGroundTruth: (projectId: string) => request<void>('DELETE', `/api/projects/${projectId}/ground-truth`),
  /** Ground truth from a COCO or YOLO zip, with upload progress; the server answers once it has matched and stored it. */
  importGroundTruth: (projectId: string, format: 'coco' | 'yolo', zip: File, progress: (sent: number, total: number) => void) => {
    const form = new FormData();
    form.append('file', zip, zip.name);
    return sendWithProgress<GroundTruthReport>(`/api/projects/${projectId}/ground-truth/import?format=${format}`, form, progress);
  },
  /** Where the caller stands with the project's onboarding (annotators and up). */
  onboarding: (projectId: string) => request<Onboarding>('GET', `/api/projects/${projectId}/onboarding`),
  /** An image's private copies (consensus shares, honeypots) and its agreement once merged (reviewers and up). */
  replicas: (imageId: string) => request<Replicas>('GET', `/api/images/${imageId}/replicas`),
  /** Ground-truth shapes most scored submissions missed (reviewers and up), the highest share first. */
  groundTruthFlags: (projectId: string, iou: number, minAttempts: number) =>
    request<GroundTruthFlag[]>('GET', `/api/projects/${projectId}/ground-truth/flags?iou=${iou}&minAttempts=${minAttempts}`),
  groundTruthFromApproved: (imageId: string) => request<FromApproved>('POST', `/api/images/${imageId}/ground-truth/from-approved`),
  /** Each person's KPIs over [from, to) (ISO dates; owners see everyone, others their own row). */
  people: (projectId: string, query: URLSearchParams) => request<PeopleReport>('GET', `/api/projects/${projectId}/analytics/people?${query}`),
  /** Each person's label mix and box sizes against the rest (?alpha=, ?minObjects=; owners see everyone, others their own row). */
  bias: (projectId: string, query: URLSearchParams) => request<BiasReport>('GET', `/api/projects/${projectId}/analytics/bias?${query}`),
  /** The latest dataset health result (reviewers and up); status running while a run is under way. */
  health: (projectId: string) => request<Health>('GET', `/api/projects/${projectId}/health`),
  /** Starts a health run: the job (its progress comes as JobProgress on /hubs/live). */
  runHealth: (projectId: string, body: HealthRequest) => request<Job>('POST', `/api/projects/${projectId}/health`, body),
  /** The models with proposals in the project (registered ones by id, imported predictions by name), with how many. */
  modelsWithProposals: (projectId: string) => request<ModelWithProposals[]>('GET', `/api/projects/${projectId}/models/outcomes`),
  /** A model's predictions (a COCO results .json or a zip of YOLO .txt files) as proposals under its name; the report lists refused rows. */
  importPredictions: (projectId: string, format: 'coco' | 'yolo', model: string, file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<PredictionsReport>('POST', `/api/projects/${projectId}/predictions?format=${format}&model=${encodeURIComponent(model)}`, form);
  },
  /** How a model's proposals ended, per label or per score band of 0.1 (404 when it has none in the project). */
  modelOutcomes: (projectId: string, modelId: string, groupBy: 'label' | 'scoreBand') =>
    request<OutcomeReport>('GET', `/api/projects/${projectId}/models/${encodeURIComponent(modelId)}/outcomes?groupBy=${groupBy}`),
  /** A mask from a box or clicks (image pixels); 422 "Nothing found" when there is no object there. */
  segment: (imageId: string, body: SegmentRequest) => request<SegmentResult>('POST', `/api/images/${imageId}/segment`, body),
  /** The project's comparisons of models, newest first. */
  comparisons: (projectId: string) => request<ComparisonSummary[]>('GET', `/api/projects/${projectId}/comparisons`),
  /** Starts a comparison (owners): its job runs each model on the sample. */
  startComparison: (projectId: string, body: StartComparison) => request<ComparisonSummary>('POST', `/api/projects/${projectId}/comparisons`, body),
  /** A comparison with its leaderboard and latest judgements. */
  comparison: (projectId: string, id: string) => request<ComparisonReport>('GET', `/api/projects/${projectId}/comparisons/${id}`),
  /** The next pair for the caller to judge, blinded; undefined when they have judged them all (204). */
  nextPair: (projectId: string, id: string) => request<PairToJudge | undefined>('GET', `/api/projects/${projectId}/comparisons/${id}/next`),
  judge: (projectId: string, id: string, pairId: string, choice: string, reasons: string[]) =>
    request<Judged>('POST', `/api/projects/${projectId}/comparisons/${id}/pairs/${pairId}/judgement`, { choice, reasons }),
  scissors: (imageId: string, body: ScissorsRequest) => request<ScissorsResult>('POST', `/api/images/${imageId}/scissors`, body),
  upload: (projectId: string, files: File[]) => {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    return request<UploadSummary>('POST', `/api/projects/${projectId}/images`, form);
  },
};
