/**
 * Outlines of a binary mask as polygon rings: each connected region's outer boundary and its holes, walked along the
 * cracks between pixels and simplified with Douglas-Peucker to within `tolerance` pixels. Regions and holes under
 * `minArea` pixels are left out. Pixel corners are used as vertices, so a traced square of pixels gives back its exact
 * outline. A polygon is a union of rings (as in COCO) and cannot subtract one, so each hole is joined into its region's
 * ring by a zero-width keyhole bridge, walked once each way: the region stays one ring, and both even-odd and nonzero
 * filling (the canvas, COCO's rasterisation, the server's) leave the hole empty. A region inside a hole is its own ring.
 */
export function traceRings(pixels: Uint8Array, width: number, height: number, tolerance = 0.75, minArea = 4): number[][] {
  // One label per pixel: regions 1, 2, … (4-connected), background -1, -2, … (8-connected, the dual connectivity).
  const labels = new Int32Array(width * height);
  const regions: { x: number; y: number; area: number }[] = [];
  const holes = new Map<number, number[][]>();
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && pixels[y * width + x] === 1;
  let backgrounds = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (labels[p]) continue; // not the first pixel of a new region or background in scan order
      if (pixels[p] === 1) {
        regions.push({ x, y, area: fill(pixels, labels, width, height, x, y, regions.length + 1).area });
        continue;
      }
      const { area, edge } = fill(pixels, labels, width, height, x, y, -++backgrounds);
      if (edge || area < minArea) continue; // the outside, or a hole too small to keep
      // The first pixel of a hole has its enclosing region right above it (anything inside the hole lies lower), and
      // walking down its left edge with that region on the right goes round the hole against the outer boundary.
      const ring = simplify(boundary(at, x, y, 1), tolerance);
      if (ring.length < 6) continue;
      const owner = labels[p - width];
      holes.set(owner, [...(holes.get(owner) ?? []), ring]);
    }
  const rings: number[][] = [];
  regions.forEach(({ x, y, area }, i) => {
    if (area < minArea) return;
    let ring = simplify(boundary(at, x, y, 0), tolerance);
    if (ring.length < 6) return;
    for (const hole of holes.get(i + 1) ?? []) ring = keyhole(ring, hole);
    rings.push(ring);
  });
  return rings;
}

/** Labels the region (4-connected) or background (8-connected) containing (x, y); its pixel count, and whether it reaches the image edge. */
function fill(pixels: Uint8Array, labels: Int32Array, width: number, height: number, x: number, y: number, label: number): { area: number; edge: boolean } {
  const value = pixels[y * width + x] === 1 ? 1 : 0, eight = label < 0;
  const stack = [y * width + x];
  labels[y * width + x] = label;
  let area = 0, edge = false;
  while (stack.length) {
    const p = stack.pop()!;
    area++;
    const px = p % width, py = (p - px) / width;
    if (px === 0 || py === 0 || px === width - 1 || py === height - 1) edge = true;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        if ((dx === 0 && dy === 0) || (!eight && dx !== 0 && dy !== 0)) continue;
        const nx = px + dx, ny = py + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const n = ny * width + nx;
        if (!labels[n] && (pixels[n] === 1 ? 1 : 0) === value) { labels[n] = label; stack.push(n); }
      }
  }
  return { area, edge };
}

/** The hole spliced into the ring at their closest pair of vertices: … r[j], h[i], h[i+1], …, h[i], r[j], r[j+1] …. */
export function keyhole(ring: number[], hole: number[]): number[] {
  let j0 = 0, i0 = 0, best = Infinity;
  for (let j = 0; j < ring.length; j += 2)
    for (let i = 0; i < hole.length; i += 2) {
      const d = (ring[j] - hole[i]) ** 2 + (ring[j + 1] - hole[i + 1]) ** 2;
      if (d < best) { best = d; j0 = j; i0 = i; }
    }
  const around = [...hole.slice(i0), ...hole.slice(0, i0), hole[i0], hole[i0 + 1]];
  return [...ring.slice(0, j0 + 2), ...around, ...ring.slice(j0)];
}

/**
 * A boundary as pixel-corner points, walking the cracks between pixels with the region on the right (4-connected). It
 * starts at the top-left corner of the first pixel in scan order of a region (heading right) or of a hole (heading
 * down): the boundary passes that corner once, so coming back to it closes the ring.
 */
function boundary(at: (x: number, y: number) => boolean, x0: number, y0: number, dir0: number): number[] {
  const points: number[] = [];
  const dx = [1, 0, -1, 0], dy = [0, 1, 0, -1]; // right, down, left, up
  let x = x0, y = y0, dir = dir0, guard = 0;
  do {
    points.push(x, y);
    const left = pixelAt(at, x, y, dir, true), right = pixelAt(at, x, y, dir, false);
    if (!right) dir = (dir + 1) % 4; // nothing ahead on the right: turn right
    else if (left) dir = (dir + 3) % 4; // a wall ahead: turn left
    x += dx[dir];
    y += dy[dir];
  } while ((x !== x0 || y !== y0) && ++guard < 1e8);
  return collinearRemoved(points);
}

/** Drops the corners where the boundary goes straight on. */
function collinearRemoved(points: number[]): number[] {
  const n = points.length / 2, out: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = (i + n - 1) % n, q = (i + 1) % n;
    const cross = (points[2 * i] - points[2 * p]) * (points[2 * q + 1] - points[2 * i + 1]) - (points[2 * i + 1] - points[2 * p + 1]) * (points[2 * q] - points[2 * i]);
    if (cross !== 0) out.push(points[2 * i], points[2 * i + 1]);
  }
  return out;
}

function pixelAt(at: (x: number, y: number) => boolean, x: number, y: number, dir: number, left: boolean): boolean {
  // The two pixels in front of corner (x, y) when heading `dir`.
  switch (dir) {
    case 0: return left ? at(x, y - 1) : at(x, y);
    case 1: return left ? at(x, y) : at(x - 1, y);
    case 2: return left ? at(x - 1, y) : at(x - 1, y - 1);
    default: return left ? at(x - 1, y - 1) : at(x, y - 1);
  }
}

/** Douglas-Peucker on a closed ring. */
function simplify(ring: number[], tolerance: number): number[] {
  const n = ring.length / 2;
  if (n < 4) return ring;
  const keep = new Uint8Array(n);
  keep[0] = 1;
  // Split the closed ring at its farthest point from the first, then simplify both halves.
  let far = 0, best = -1;
  for (let i = 1; i < n; i++) { const d = Math.hypot(ring[2 * i] - ring[0], ring[2 * i + 1] - ring[1]); if (d > best) { best = d; far = i; } }
  keep[far] = 1;
  const stack: [number, number][] = [[0, far], [far, n]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const bi = b % n;
    let index = -1, dmax = tolerance;
    for (let i = a + 1; i < b; i++) {
      const d = distance(ring[2 * i], ring[2 * i + 1], ring[2 * a], ring[2 * a + 1], ring[2 * bi], ring[2 * bi + 1]);
      if (d > dmax) { dmax = d; index = i; }
    }
    if (index >= 0) { keep[index] = 1; stack.push([a, index], [index, b]); }
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(ring[2 * i], ring[2 * i + 1]);
  return out;
}

function distance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay, len = Math.hypot(dx, dy);
  return len === 0 ? Math.hypot(px - ax, py - ay) : Math.abs(dy * px - dx * py + bx * ay - by * ax) / len;
}
