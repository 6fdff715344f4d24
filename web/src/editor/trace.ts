/**
 * Outlines of a binary mask as polygon rings: the outer boundary of each connected region (Moore-neighbour tracing),
 * simplified with Douglas-Peucker to within `tolerance` pixels. Regions under `minArea` pixels are left out. Pixel
 * corners are used as vertices, so a traced square of pixels gives back its exact outline.
 */
export function traceRings(pixels: Uint8Array, width: number, height: number, tolerance = 0.75, minArea = 4): number[][] {
  const seen = new Uint8Array(width * height);
  const rings: number[][] = [];
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && pixels[y * width + x] === 1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!at(x, y) || seen[y * width + x]) continue; // the first pixel of a new region in scan order
      const area = fill(pixels, seen, width, height, x, y);
      if (area < minArea) continue;
      const ring = simplify(boundary(at, x, y), tolerance);
      if (ring.length >= 6) rings.push(ring);
    }
  return rings;
}

/** Marks the region containing (x, y) as seen; returns its pixel count. */
function fill(pixels: Uint8Array, seen: Uint8Array, width: number, height: number, x: number, y: number): number {
  const stack = [y * width + x];
  seen[y * width + x] = 1;
  let count = 0;
  while (stack.length) {
    const p = stack.pop()!;
    count++;
    const px = p % width, py = (p - px) / width;
    for (const [nx, ny] of [[px + 1, py], [px - 1, py], [px, py + 1], [px, py - 1]]) {
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const n = ny * width + nx;
      if (pixels[n] === 1 && !seen[n]) { seen[n] = 1; stack.push(n); }
    }
  }
  return count;
}

/**
 * The region's outer boundary as pixel-corner points, walking the cracks between pixels with the region on the right
 * (4-connected). It starts at the top-left corner of the region's first pixel in scan order, heading right: no other
 * pixel of the region touches that corner, so coming back to it closes the ring.
 */
function boundary(at: (x: number, y: number) => boolean, x0: number, y0: number): number[] {
  const points: number[] = [];
  const dx = [1, 0, -1, 0], dy = [0, 1, 0, -1]; // right, down, left, up
  let x = x0, y = y0, dir = 0, guard = 0;
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
