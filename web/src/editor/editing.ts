import type { Box, GeometryJson, Polygon } from '../api';
import type { Shape } from './shapes';

/**
 * Geometry edits of the select tool, as pure functions of image-pixel coordinates: the handles a shape offers (box
 * corners and edge midpoints; polygon vertices), dragging one, moving the whole shape, and inserting or deleting a
 * polygon vertex. Every edit is clamped to the image.
 */
export type Handle = { index: number; x: number; y: number };

export function handles(s: Shape): Handle[] {
  if (s.kind === 'box') {
    const b = s.geometry as Box, x1 = b.x + b.width, y1 = b.y + b.height, mx = b.x + b.width / 2, my = b.y + b.height / 2;
    return [[b.x, b.y], [x1, b.y], [x1, y1], [b.x, y1], [mx, b.y], [x1, my], [mx, y1], [b.x, my]].map(([x, y], index) => ({ index, x, y }));
  }
  if (s.kind === 'polygon') {
    const out: Handle[] = [];
    (s.geometry as Polygon).rings.forEach((ring, r) => { for (let i = 0; i + 1 < ring.length; i += 2) out.push({ index: r * 100_000 + i / 2, x: ring[i], y: ring[i + 1] }); });
    return out;
  }
  return [];
}

/** The handle within `radius` (image pixels) of a point, nearest first. */
export function handleAt(s: Shape, x: number, y: number, radius: number): Handle | undefined {
  let best: Handle | undefined, bestDistance = radius;
  for (const h of handles(s)) {
    const d = Math.hypot(h.x - x, h.y - y);
    if (d <= bestDistance) { best = h; bestDistance = d; }
  }
  return best;
}

export function dragHandle(s: Shape, handle: number, x: number, y: number, width: number, height: number): GeometryJson {
  x = clamp(x, width); y = clamp(y, height);
  if (s.kind === 'box') {
    const b = s.geometry as Box;
    let x0 = b.x, y0 = b.y, x1 = b.x + b.width, y1 = b.y + b.height;
    if ([0, 3, 7].includes(handle)) x0 = x;
    if ([1, 2, 5].includes(handle)) x1 = x;
    if ([0, 1, 4].includes(handle)) y0 = y;
    if ([2, 3, 6].includes(handle)) y1 = y;
    return box(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  }
  const rings = (s.geometry as Polygon).rings.map(r => [...r]);
  const ring = Math.floor(handle / 100_000), vertex = handle % 100_000;
  rings[ring][2 * vertex] = round(x);
  rings[ring][2 * vertex + 1] = round(y);
  return { rings };
}

export function move(s: Shape, dx: number, dy: number, width: number, height: number): GeometryJson | null {
  const [x0, y0, x1, y1] = s.bounds;
  // The whole shape stays inside the image.
  dx = Math.min(width - x1, Math.max(-x0, dx));
  dy = Math.min(height - y1, Math.max(-y0, dy));
  if (s.kind === 'box') { const b = s.geometry as Box; return box(b.x + dx, b.y + dy, b.width, b.height); }
  if (s.kind === 'polygon') return { rings: (s.geometry as Polygon).rings.map(r => r.map((v, i) => round(v + (i % 2 === 0 ? dx : dy)))) };
  return null; // masks move with the brush, not by dragging
}

/** Inserts a vertex on the polygon edge nearest to (x, y), if within `radius`; null otherwise. */
export function insertVertex(s: Shape, x: number, y: number, radius: number): GeometryJson | null {
  if (s.kind !== 'polygon') return null;
  const rings = (s.geometry as Polygon).rings;
  let best: { r: number; i: number; d: number } | undefined;
  rings.forEach((ring, r) => {
    const n = ring.length / 2;
    for (let i = 0; i < n; i++) {
      const ax = ring[2 * i], ay = ring[2 * i + 1], bx = ring[2 * ((i + 1) % n)], by = ring[2 * ((i + 1) % n) + 1];
      const d = segmentDistance(x, y, ax, ay, bx, by);
      if (d <= radius && (!best || d < best.d)) best = { r, i, d };
    }
  });
  if (!best) return null;
  const copy = rings.map(ring => [...ring]);
  copy[best.r].splice(2 * best.i + 2, 0, round(x), round(y));
  return { rings: copy };
}

/** Deletes a polygon vertex, unless its ring would have fewer than 3 points. */
export function deleteVertex(s: Shape, handle: number): GeometryJson | null {
  if (s.kind !== 'polygon') return null;
  const rings = (s.geometry as Polygon).rings.map(r => [...r]);
  const ring = Math.floor(handle / 100_000), vertex = handle % 100_000;
  if (rings[ring].length <= 6) return null;
  rings[ring].splice(2 * vertex, 2);
  return { rings };
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

const round = (v: number) => Math.round(v * 100) / 100;
const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
const box = (x: number, y: number, width: number, height: number): Box => ({ x: round(x), y: round(y), width: round(width), height: round(height) });
