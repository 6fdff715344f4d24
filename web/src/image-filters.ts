// The project grid's filters (GET /api/projects/{id}/images takes the same names), kept in the page's address so a
// drill-down from the People or Health page is a plain link: /projects/{id}?annotator=ann1, ?label=…, ?flagged=duplicate,
// ?ids=a,b&idsNote=….

/** The filters the images list takes, as query-string values ('' or absent: no filter). */
export interface ImageFilter {
  status?: string;
  stage?: string;
  label?: string;
  annotator?: string;
  hasProposals?: string;
  minScore?: string;
  maxScore?: string;
  fileName?: string;
  /** duplicate, outlier (the latest health result's) or disagreement (consensus below the project's bar). */
  flagged?: string;
  /** 'true': the archived images instead of the others. */
  archived?: string;
  /** Comma-separated image ids: set by drill-downs, shown as a removable chip. */
  ids?: string;
  /** What the ids are (the chip's words): "People: ann1 low F1", "near-duplicate pair". Not sent to the server. */
  idsNote?: string;
}

/** The keys the server filters by, in the order the address shows them. */
export const filterKeys = ['status', 'stage', 'label', 'annotator', 'hasProposals', 'minScore', 'maxScore', 'fileName', 'flagged', 'archived', 'ids'] as const;
export const stages = ['annotate', 'submitted', 'in-review', 'approved', 'rejected', 'rework'] as const;
export const statuses = ['new', 'prelabeled', 'in-progress', 'submitted', 'approved', 'rejected'] as const;
/** ?flagged=: what each takes in (the select's words and title). */
export const flags = [
  { value: 'duplicate', text: 'near-duplicate', title: 'In a near-duplicate pair of the latest health check' },
  { value: 'outlier', text: 'box outlier', title: 'With a box among the latest health check\'s box outliers' },
  { value: 'disagreement', text: 'disagreement', title: 'Consensus copies that agree below the project\'s bar (or waiting for adjudication)' },
] as const;

/**
 * A drill-down names at most this many ids: each is 37 characters of the address, and servers and proxies refuse
 * request lines over 8 KB (Kestrel's default), for the page's reload and the list's request alike.
 */
export const maxDrillIds = 150;

/** The filters in an address's query (other parameters are ignored). */
export function readFilter(search: string | URLSearchParams): ImageFilter {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const f: ImageFilter = {};
  for (const key of [...filterKeys, 'idsNote'] as const) {
    const value = q.get(key)?.trim();
    if (value) f[key] = value;
  }
  return f;
}

/** The query for the API (the filters only) or for an address (with the ids' note). */
export function filterQuery(f: ImageFilter, forAddress = false): URLSearchParams {
  const q = new URLSearchParams();
  for (const key of filterKeys) if (f[key]) q.set(key, f[key]!);
  if (forAddress && f.ids && f.idsNote) q.set('idsNote', f.idsNote);
  return q;
}

export const hasFilter = (f: ImageFilter) => filterKeys.some(k => !!f[k]);

/** The project page's grid with these filters: a drill-down link. */
export function gridHref(projectId: string, f: ImageFilter): string {
  const q = filterQuery(f, true).toString();
  return `/projects/${projectId}${q ? `?${q}` : ''}`;
}

/** The grid showing just these images (at most maxDrillIds, the first ones), with what they are. */
export function idsHref(projectId: string, ids: readonly string[], note: string): string {
  const unique = [...new Set(ids)].slice(0, maxDrillIds);
  return gridHref(projectId, { ids: unique.join(','), idsNote: note });
}

export const idCount = (f: ImageFilter) => (f.ids ? f.ids.split(',').filter(Boolean).length : 0);
