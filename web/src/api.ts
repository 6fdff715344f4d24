// REST client for the server's /api. Errors are the server's ProblemDetails, surfaced with their detail text.
import { currentUser } from './user';

export interface Label { id: string; name: string; color: string; order: number }
export interface Project { id: string; name: string; description?: string | null; labels: Label[] }
export type ImageStatus = 'new' | 'prelabeled' | 'in-progress' | 'submitted' | 'approved' | 'rejected';
export interface ImageInfo { id: string; projectId: string; fileName: string; width: number; height: number; status: ImageStatus }
export interface ImagePage { items: ImageInfo[]; total: number; offset: number; limit: number }
export type Kind = 'box' | 'polygon' | 'mask';
export type State = 'proposed' | 'accepted' | 'rejected';
export interface Box { x: number; y: number; width: number; height: number }
export interface Polygon { rings: number[][] }
export interface Mask { size: [number, number]; counts: string; polygons?: number[][] }
export type GeometryJson = Box | Polygon | Mask;
export interface Source { type: 'human' | 'model'; modelId?: string | null; score?: number | null }
export interface Annotation {
  id: string; imageId: string; labelId: string; kind: Kind; geometry: GeometryJson; attributes: Record<string, unknown>;
  source: Source; state: State; version: number;
}
export interface Model { id: string; name: string; task: string; family: string; classNames: string[] }
export type JobStatus = 'queued' | 'running' | 'completed' | 'cancelled' | 'dead';
export interface Job { id: string; kind: string; projectId: string; status: JobStatus; total: number; done: number; failed: number; lastError?: string | null }
export interface JobItem { imageId: string; status: string; error?: string | null }
export interface ImportReport { imagesCreated: number; imagesAlreadyPresent: number; annotationsCreated: number; labelsCreated: number; skipped: { item: string; reason: string }[] }
export interface UploadSummary { files: { fileName: string; outcome: string; image: ImageInfo | null; error: string | null }[] }

export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'X-VisionLabel-User': currentUser() };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['content-type'] = 'application/json'; payload = JSON.stringify(body); }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, json?.detail ?? json?.title ?? `${response.status} ${response.statusText}`);
  return json as T;
}

export const api = {
  projects: () => request<Project[]>('GET', '/api/projects'),
  project: (id: string) => request<Project>('GET', `/api/projects/${id}`),
  stats: () => request<{ projectId: string; total: number; byStatus: Record<ImageStatus, number> }[]>('GET', '/api/projects/stats'),
  createLabel: (projectId: string, name: string, color?: string) => request<Label>('POST', `/api/projects/${projectId}/labels`, { name, color }),
  updateLabel: (projectId: string, labelId: string, changes: { name?: string; color?: string }) => request<Label>('PATCH', `/api/projects/${projectId}/labels/${labelId}`, changes),
  deleteLabel: (projectId: string, labelId: string, withAnnotations: boolean) =>
    request<void>('DELETE', `/api/projects/${projectId}/labels/${labelId}${withAnnotations ? '?deleteAnnotations=true' : ''}`),
  createProject: (name: string, labels: { name: string; color?: string }[]) => request<Project>('POST', '/api/projects', { name, labels }),
  images: (projectId: string, offset: number, limit: number, status?: string) =>
    request<ImagePage>('GET', `/api/projects/${projectId}/images?offset=${offset}&limit=${limit}${status ? `&status=${status}` : ''}`),
  image: (id: string) => request<ImageInfo>('GET', `/api/images/${id}`),
  models: () => request<Model[]>('GET', '/api/models'),
  uploadModel: (file: File, names?: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    if (names) form.append('names', names, names.name);
    return request<Model>('POST', '/api/models', form);
  },
  prelabel: (projectId: string, modelId: string) => request<Job>('POST', `/api/projects/${projectId}/prelabel`, { modelId }),
  job: (id: string) => request<Job>('GET', `/api/jobs/${id}`),
  failedItems: (id: string) => request<JobItem[]>('GET', `/api/jobs/${id}/items?status=failed`),
  importDataset: (projectId: string, format: string, zip: File) => {
    const form = new FormData();
    form.append('file', zip, zip.name);
    return request<ImportReport>('POST', `/api/projects/${projectId}/import?format=${format}`, form);
  },
  upload: (projectId: string, files: File[]) => {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    return request<UploadSummary>('POST', `/api/projects/${projectId}/images`, form);
  },
};
