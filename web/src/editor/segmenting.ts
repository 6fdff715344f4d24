import { api, type Mask, type SegmentRequest, type SegmentResult } from '../api';
import type { Editor } from './editor';

// What box to mask and click to mask share (tools/box-mask.ts, tools/click-mask.ts): the request to the server's
// segment route, and turning its answer into an ordinary mask annotation.

/** Asks the server for a mask (method auto: the project's segmentation model, else GrabCut). The request is counted
 *  in the store while it runs, so the stage says "segmenting…" (panels/mask-draft.ts) however long the method takes. */
export async function segment(ed: Editor, prompt: Pick<SegmentRequest, 'box' | 'points'>): Promise<SegmentResult> {
  ed.store.update(s => ({ segmenting: s.segmenting + 1 }));
  try {
    return await api.segment(ed.imageId, { ...prompt, method: 'auto' });
  } finally {
    ed.store.update(s => ({ segmenting: s.segmenting - 1 }));
  }
}

const round = (v: number) => Math.round(v * 100) / 100;

/** The annotation's geometry: the RLE, and the server's outline as its polygons, so K converts it to that outline
 *  instead of tracing the pixels again. (A brush stroke replaces the geometry, outline and all.) */
export function maskGeometry(answer: SegmentResult): Mask {
  const [h, w] = answer.mask.size;
  const polygons = answer.polygon.filter(r => r.length >= 6)
    .map(r => r.map((v, i) => round(Math.min(i % 2 === 0 ? w : h, Math.max(0, v)))));
  return { size: [h, w], counts: answer.mask.counts, ...(polygons.length ? { polygons } : {}) };
}

/** Creates the mask through the one write path (an op over the hub, shown at once, like a brush stroke's new mask)
 *  and selects it, so the brush (M) paints on it straight away. Returns its id. */
export function createMask(ed: Editor, labelId: string, answer: SegmentResult): string {
  const id = crypto.randomUUID();
  ed.live.create(id, { labelId, kind: 'mask', geometry: maskGeometry(answer) });
  ed.select([id]);
  return id;
}

/** "grabcut, 0.82, 140 ms": how the mask was made, for the toasts. */
export function describe(answer: SegmentResult): string {
  return [answer.method, answer.score != null ? answer.score.toFixed(2) : null, `${Math.round(answer.ms)} ms`].filter(Boolean).join(', ');
}
