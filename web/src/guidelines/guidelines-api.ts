// The guidelines' REST calls (docs/guidelines.md) and the owner's unpublished draft, kept in localStorage so an
// example picked in the editor ("Use as positive example") or text half written survives until the next publish.
import { ApiError, request } from '../api';
import type { components } from '../api-schema';
type Schemas = components['schemas'];

export type Guidelines = Schemas['GuidelinesDto'];
export type Guideline = Schemas['GuidelineDto'];
export type GuidelineCard = Schemas['GuidelineCardDto'];
export type GuidelineExample = Schemas['GuidelineExample'];
export type GuidelineVersion = Schemas['GuidelineVersionInfo'];
export type PublishGuideline = Schemas['PublishGuideline'];
/** POST …/guidelines/images answers this (the OpenAPI document calls it free JSON). */
export interface UploadedImage { url: string; name: string; width: number; height: number }

export const guidelinesApi = {
  current: (projectId: string) => request<Guidelines>('GET', `/api/projects/${projectId}/guidelines`),
  version: (projectId: string, version: string) => request<Guideline>('GET', `/api/projects/${projectId}/guidelines/versions/${encodeURIComponent(version)}`),
  publish: (projectId: string, body: PublishGuideline) => request<Guideline>('POST', `/api/projects/${projectId}/guidelines`, body),
  acknowledge: (projectId: string, version: string) => request<Guidelines>('POST', `/api/projects/${projectId}/guidelines/acknowledge`, { version }),
  uploadImage: (projectId: string, file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<UploadedImage>('POST', `/api/projects/${projectId}/guidelines/images`, form);
  },
};

/** The version a 409 from POST …/queue/next asks to acknowledge ("Guidelines 2.0 not acknowledged"), or undefined for any other error. */
export function unacknowledged(err: unknown): string | undefined {
  const version = err instanceof ApiError && err.status === 409 ? err.problem?.guidelineVersion : undefined;
  return typeof version === 'string' ? version : undefined;
}

/**
 * The guidelines of a project, read once and shared by the editor's panel and the labels' hover cards; `fresh` reads
 * them again (after an acknowledgement or a publish).
 */
const cache = new Map<string, Promise<Guidelines>>();
export function guidelinesOf(projectId: string, fresh = false): Promise<Guidelines> {
  let p = cache.get(projectId);
  if (!p || fresh) {
    p = guidelinesApi.current(projectId);
    cache.set(projectId, p);
    p.catch(() => { if (cache.get(projectId) === p) cache.delete(projectId); });
  }
  return p;
}

/** An example shape in a draft: its annotation, and (when known: picked in the editor, or from a published card) where to crop it. */
export interface DraftExample { annotationId: string; imageId?: string; bounds?: number[] }
export interface DraftCard { description: string; positive: DraftExample[]; negative: DraftExample[] }
/** What the owner is writing for the next version. */
export interface Draft { markdown: string; changelog: string; major: boolean; cards: Record<string, DraftCard> }
/** An example picked in the editor, waiting for the guidelines page to put it in the draft. */
export interface PickedExample extends DraftExample { labelId: string; positive: boolean }

const draftKey = (projectId: string) => `vl.guidelines.draft.${projectId}`;
const pickedKey = (projectId: string) => `vl.guidelines.picked.${projectId}`;

function readJson<T>(key: string): T | undefined {
  try { const text = localStorage.getItem(key); return text ? JSON.parse(text) as T : undefined; } catch { return undefined; }
}

export const drafts = {
  load: (projectId: string) => readJson<Draft>(draftKey(projectId)),
  save: (projectId: string, draft: Draft) => localStorage.setItem(draftKey(projectId), JSON.stringify(draft)),
  clear: (projectId: string) => { localStorage.removeItem(draftKey(projectId)); localStorage.removeItem(pickedKey(projectId)); },
  picked: (projectId: string) => readJson<PickedExample[]>(pickedKey(projectId)) ?? [],
  clearPicked: (projectId: string) => localStorage.removeItem(pickedKey(projectId)),
  /** The editor's "Use as … example": kept for the next publish (a second pick of the same shape replaces the first). */
  pick: (projectId: string, example: PickedExample): number => {
    const list = drafts.picked(projectId).filter(e => e.annotationId !== example.annotationId);
    list.push(example);
    localStorage.setItem(pickedKey(projectId), JSON.stringify(list));
    return list.length;
  },
};

/** A draft made from a published version (or empty before the first), for the labels the project has. */
export function draftFrom(current: Guideline | null | undefined, labelIds: string[]): Draft {
  const cards: Record<string, DraftCard> = {};
  for (const id of labelIds) cards[id] = { description: '', positive: [], negative: [] };
  for (const c of current?.cards ?? [])
    cards[c.labelId] = { description: c.description, positive: c.positive.map(e => ({ ...e })), negative: c.negative.map(e => ({ ...e })) };
  return { markdown: current?.markdown ?? '', changelog: '', major: false, cards };
}

/** Puts the examples picked in the editor into a draft (moving one that was on the other side). Returns how many were new. */
export function mergePicked(draft: Draft, picked: PickedExample[]): number {
  let added = 0;
  for (const p of picked) {
    const card = draft.cards[p.labelId] ??= { description: '', positive: [], negative: [] };
    const example: DraftExample = { annotationId: p.annotationId, imageId: p.imageId, bounds: p.bounds };
    const [to, from] = p.positive ? [card.positive, card.negative] : [card.negative, card.positive];
    const other = from.findIndex(e => e.annotationId === p.annotationId);
    if (other >= 0) from.splice(other, 1);
    const same = to.findIndex(e => e.annotationId === p.annotationId);
    if (same >= 0) to[same] = example; else { to.push(example); added++; }
  }
  return added;
}
