import type { Annotation, Box, GeometryJson, Kind, Mask, Polygon, State } from '../api';

/** An annotation as the canvas keeps it: its properties and its bounds in image pixels (for culling and hit tests). */
export interface Shape {
  id: string; labelId: string; kind: Kind; geometry: GeometryJson; state: State;
  source: { type: string; score?: number | null }; attributes: Record<string, unknown>;
  bounds: [number, number, number, number]; // x0, y0, x1, y1
}

export function fromAnnotation(a: Annotation): Shape {
  return { id: a.id, labelId: a.labelId, kind: a.kind, geometry: a.geometry, state: a.state, source: a.source, attributes: a.attributes, bounds: bounds(a.kind, a.geometry) };
}

export function bounds(kind: Kind, g: GeometryJson): [number, number, number, number] {
  if (kind === 'box') { const b = g as Box; return [b.x, b.y, b.x + b.width, b.y + b.height]; }
  if (kind === 'polygon') return ringsBounds((g as Polygon).rings);
  const m = g as Mask;
  if (m.polygons?.length) return ringsBounds(m.polygons);
  const [x, y, w, h] = rleBox(decodeRle(m.counts), m.size[0]);
  return [x, y, x + w, y + h];
}

function ringsBounds(rings: number[][]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const r of rings) for (let i = 0; i + 1 < r.length; i += 2) {
    x0 = Math.min(x0, r[i]); x1 = Math.max(x1, r[i]); y0 = Math.min(y0, r[i + 1]); y1 = Math.max(y1, r[i + 1]);
  }
  return [x0, y0, x1, y1];
}

/** COCO's compressed RLE text → run lengths (column-major, starting with zeros), as the server writes it. */
export function decodeRle(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      const c = text.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++; k++;
      if (!more && (c & 0x10) !== 0) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

export function rleBox(runs: number[], height: number): [number, number, number, number] {
  let xs = Infinity, ys = Infinity, xe = -1, ye = -1, at = 0;
  for (let i = 0; i < runs.length; i++) {
    if (i & 1 && runs[i] > 0) {
      const first = at, last = at + runs[i] - 1, x0 = Math.floor(first / height), x1 = Math.floor(last / height);
      xs = Math.min(xs, x0); xe = Math.max(xe, x1);
      if (x0 !== x1) { ys = 0; ye = height - 1; } else { ys = Math.min(ys, first % height); ye = Math.max(ye, last % height); }
    }
    at += runs[i];
  }
  return xe < 0 ? [0, 0, 0, 0] : [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** Topmost shape under an image point: boxes and masks by bounds, polygons by their rings (even-odd). */
export function hitTest(shapes: Iterable<Shape>, x: number, y: number, visible: (s: Shape) => boolean): Shape | undefined {
  let hit: Shape | undefined;
  let bestArea = Infinity;
  for (const s of shapes) {
    if (!visible(s)) continue;
    const [x0, y0, x1, y1] = s.bounds;
    if (x < x0 || y < y0 || x > x1 || y > y1) continue;
    if (s.kind === 'polygon' && !insideRings((s.geometry as Polygon).rings, x, y)) continue;
    const area = (x1 - x0) * (y1 - y0);
    if (area < bestArea) { bestArea = area; hit = s; } // the smallest shape wins: nested shapes stay reachable
  }
  return hit;
}

function insideRings(rings: number[][], x: number, y: number): boolean {
  let inside = false;
  for (const r of rings)
    for (let i = 0, j = r.length - 2; i < r.length; j = i, i += 2)
      if ((r[i + 1] > y) !== (r[j + 1] > y) && x < ((r[j] - r[i]) * (y - r[i + 1])) / (r[j + 1] - r[i + 1]) + r[i]) inside = !inside;
  return inside;
}

/** Run lengths → COCO's compressed RLE text (pycocotools' rleToString), the form the server stores. */
export function encodeRle(counts: number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}
