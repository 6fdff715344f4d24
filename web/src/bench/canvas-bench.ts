// The editor's renderer under load, beside a plain SVG renderer (one element per shape, as CVAT's canvas draws):
// /bench.html?renderer=canvas|svg&seconds=10[&shapes=100000]. By default 10,000 boxes + 1,000 polygons (20-200 points) + 200 masks on a
// 4000x3000 image; a scripted pan and zoom; then peer ops applied one at a time, each timed to the frame that shows
// it. The result is left in window.benchResult (bench/VisionLabel.Bench `canvas` reads it).
import type { Label } from '../api';
import { Renderer } from '../editor/renderer';
import { SceneCache } from '../editor/scene-cache';
import { WorkerScene, workerAbove } from '../editor/worker-scene';
import { bounds, encodeRle, Shape } from '../editor/shapes';
import { Viewport } from '../editor/viewport';

const params = new URLSearchParams(location.search);
const which = params.get('renderer') ?? 'canvas';
const seconds = Number(params.get('seconds') ?? 10);
const skip = new Set((params.get('skip') ?? '').split(',')); // diagnosis: leave out boxes, polygons or masks
// How many shapes, in the same mix as the 11,200 default (10,000 boxes : 1,000 polygons : 200 masks): shapes=100000
// gives 89,286 boxes, 8,929 polygons and 1,785 masks (issue 26).
const total = Number(params.get('shapes') ?? 11_200);
const counts = { boxes: Math.round(total * 10_000 / 11_200), polygons: Math.round(total * 1000 / 11_200), masks: 0 };
counts.masks = total - counts.boxes - counts.polygons;
const W = 4000, H = 3000;
const stage = document.getElementById('stage')!;
const width = stage.clientWidth, height = stage.clientHeight;

let seed = 42;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const labels = new Map<string, Label>(['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4'].map((color, i) => [`l${i}`, { id: `l${i}`, name: `label${i}`, color, order: i, requiredF1: null, hotkey: null, attributes: [] }]));

function makeShapes(): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  const add = (s: Omit<Shape, 'bounds'>) => shapes.set(s.id, { ...s, bounds: bounds(s.kind, s.geometry) });
  const label = () => `l${Math.floor(random() * 5)}`;
  for (let i = 0; i < (skip.has('boxes') ? 0 : counts.boxes); i++) {
    const w = 8 + random() * 120, h = 8 + random() * 120;
    add({ id: `b${i}`, labelId: label(), kind: 'box', geometry: { x: random() * (W - w), y: random() * (H - h), width: w, height: h }, state: i % 3 ? 'accepted' : 'proposed', source: { type: 'model', score: random() }, attributes: {} });
  }
  for (let i = 0; i < (skip.has('polygons') ? 0 : counts.polygons); i++) {
    const n = 20 + Math.floor(random() * 181), cx = 100 + random() * (W - 200), cy = 100 + random() * (H - 200), r = 20 + random() * 80;
    const ring: number[] = [];
    for (let k = 0; k < n; k++) { const a = (2 * Math.PI * k) / n, rr = r * (0.7 + 0.3 * random()); ring.push(cx + rr * Math.cos(a), cy + rr * Math.sin(a)); }
    add({ id: `p${i}`, labelId: label(), kind: 'polygon', geometry: { rings: [ring] }, state: 'accepted', source: { type: 'human' }, attributes: {} });
  }
  for (let i = 0; i < (skip.has('masks') ? 0 : counts.masks); i++) {
    // A disc of radius r as whole-image column-major runs.
    const cx = 100 + Math.floor(random() * (W - 200)), cy = 100 + Math.floor(random() * (H - 200)), r = 20 + Math.floor(random() * 60);
    const counts: number[] = [];
    let at = 0, on = false, run = 0;
    const push = (v: boolean, n: number) => { if (v !== on) { counts.push(run); run = 0; on = v; } run += n; };
    for (let x = 0; x < W; x++) {
      const dx = x - cx;
      if (Math.abs(dx) > r) { push(false, H); continue; }
      const half = Math.floor(Math.sqrt(r * r - dx * dx));
      push(false, cy - half); push(true, 2 * half + 1); push(false, H - (cy + half + 1));
    }
    counts.push(run);
    at = counts.reduce((a, b) => a + b, 0);
    if (at !== W * H) throw new Error('bad mask');
    add({ id: `m${i}`, labelId: label(), kind: 'mask', geometry: { size: [H, W], counts: encodeRle(counts) }, state: 'accepted', source: { type: 'model', score: 0.9 }, attributes: {} });
  }
  return shapes;
}

/** A 4000x3000 JPEG with some structure, as a data URL (the same picture under both renderers). */
async function photo(): Promise<string> {
  const c = document.createElement('canvas'); c.width = W; c.height = H;
  const g = c.getContext('2d')!;
  const gradient = g.createLinearGradient(0, 0, W, H); gradient.addColorStop(0, '#203040'); gradient.addColorStop(1, '#605040');
  g.fillStyle = gradient; g.fillRect(0, 0, W, H);
  for (let i = 0; i < 400; i++) { g.fillStyle = `hsl(${random() * 360} 30% 40%)`; g.fillRect(random() * W, random() * H, 50 + random() * 200, 50 + random() * 200); }
  return c.toDataURL('image/jpeg', 0.8);
}

/** The scripted camera: fit, then zoom in and out around moving points while panning, for `seconds`. */
function camera(view: Viewport, t: number): void {
  view.fit(W, H, width, height);
  const phase = (t / 1000) % 10;
  const zoom = 1 + 4 * (0.5 - 0.5 * Math.cos((phase / 10) * 2 * Math.PI));
  const px = width * (0.3 + 0.4 * Math.sin(t / 1700)), py = height * (0.3 + 0.4 * Math.cos(t / 2300));
  view.zoomAt(px, py, zoom);
}

interface Result { slow?: string[]; firstRenderMs?: number; workerRenderMs?: number[]; renderer: string; shapes: number; frames: number; frameMs: { p50: number; p95: number; p99: number; max: number }; workMs: { p50: number; p95: number; p99: number }; droppedFrames: number; opToFrameMs: { p50: number; p99: number } }
const pct = (v: number[], p: number) => { const s = [...v].sort((a, b) => a - b); return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2)) : NaN; };

async function run(): Promise<Result> {
  const shapes = makeShapes();
  const view = new Viewport();
  let draw: () => void;
  let applyOp: (id: string) => void;
  let waitShown: (() => Promise<void>) | null = null; // the worker: until its render with the op has arrived
  let firstRenderMs: number | undefined;
  const workerMs: number[] = [];
  const slow: string[] = []; // worker renders over 200 ms: time@scale,shapes in view (diagnosis)
  if (which === 'svg') {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', String(width)); svg.setAttribute('height', String(height));
    const g = document.createElementNS(ns, 'g');
    const bg = document.createElementNS(ns, 'image');
    bg.setAttribute('width', String(W)); bg.setAttribute('height', String(H)); bg.setAttribute('href', await photo());
    g.append(bg);
    const elements = new Map<string, SVGElement>();
    for (const s of shapes.values()) {
      let el: SVGElement;
      const color = labels.get(s.labelId)!.color;
      if (s.kind === 'box') { const b = s.geometry as any; el = document.createElementNS(ns, 'rect'); el.setAttribute('x', b.x); el.setAttribute('y', b.y); el.setAttribute('width', b.width); el.setAttribute('height', b.height); }
      else if (s.kind === 'polygon') { el = document.createElementNS(ns, 'polygon'); el.setAttribute('points', (s.geometry as any).rings[0].join(' ')); }
      else { const [x0, y0, x1, y1] = s.bounds; el = document.createElementNS(ns, 'ellipse'); el.setAttribute('cx', String((x0 + x1) / 2)); el.setAttribute('cy', String((y0 + y1) / 2)); el.setAttribute('rx', String((x1 - x0) / 2)); el.setAttribute('ry', String((y1 - y0) / 2)); }
      el.setAttribute('stroke', color); el.setAttribute('fill', color); el.setAttribute('fill-opacity', '0.15'); el.setAttribute('vector-effect', 'non-scaling-stroke');
      g.append(el); elements.set(s.id, el);
    }
    svg.append(g); stage.append(svg);
    draw = () => g.setAttribute('transform', `matrix(${view.scale} 0 0 ${view.scale} ${view.tx} ${view.ty})`);
    applyOp = id => { const el = elements.get(id)!; el.setAttribute('x', String(Number(el.getAttribute('x') ?? 0) + 5)); };
  } else {
    const canvas = document.createElement('canvas');
    const dpr = window.devicePixelRatio || 1;
    canvas.width = width * dpr; canvas.height = height * dpr;
    canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
    stage.append(canvas);
    const ctx = canvas.getContext('2d')!;
    const renderer = new Renderer();
    // As in the editor: the image is an <img> under the canvas, moved by a CSS transform.
    const image = new Image(W, H);
    image.src = await photo();
    await image.decode();
    Object.assign(image.style, { position: 'absolute', left: '0', top: '0', transformOrigin: '0 0' });
    stage.prepend(image);
    canvas.style.position = 'absolute';
    const options = { labels, selected: new Set<string>(), hiddenLabels: new Set<string>(), fillOpacity: 0.15 };
    const move = (id: string) => { // as live.ts applies an op: a new shape object
      const s = shapes.get(id)!, b = s.geometry as any, geometry = { ...b, x: b.x + 5 };
      shapes.set(id, { ...s, geometry, bounds: bounds(s.kind, geometry) });
      return s.bounds;
    };
    if (shapes.size > workerAbove) {
      // As the editor does above workerAbove: the scene worker renders, the main thread moves its last bitmap.
      let arrived: (() => void) | null = null;
      const worker = new WorkerScene(() => { workerMs.push(worker.lastMs); if (worker.lastMs > 200) slow.push(`${worker.lastMs.toFixed(0)}ms@${view.scale.toFixed(2)}x,${worker.drawn}`); arrived?.(); });
      const shown = () => new Promise<void>(resolve => { arrived = resolve; });
      worker.sync(shapes, null);
      const first = performance.now();
      view.fit(W, H, width, height);
      const ready = shown();
      worker.paint(ctx, view, width, height, dpr, options);
      await ready; // the first render (masks decoded, 100,000 shapes): load time, reported apart
      firstRenderMs = performance.now() - first;
      workerMs.length = 0;
      draw = () => {
        image.style.transform = `matrix(${view.scale}, 0, 0, ${view.scale}, ${view.tx}, ${view.ty})`;
        worker.paint(ctx, view, width, height, dpr, options);
      };
      applyOp = id => { move(id); worker.sync(shapes, [id]); };
      waitShown = async () => { while (!worker.settled(view)) { const next = shown(); draw(); await next; } };
    } else {
      const scene = new SceneCache();
      draw = () => {
        image.style.transform = `matrix(${view.scale}, 0, 0, ${view.scale}, ${view.tx}, ${view.ty})`;
        scene.paint(ctx, view, width, height, dpr, c => { renderer.draw(c, view, width, height, shapes.values(), options); }, () => {});
      };
      // As the editor does for a peer's op: repaint where the shape was and where it is now, not the whole scene.
      applyOp = id => {
        const before = move(id), s = shapes.get(id)!;
        const region: [number, number, number, number] = [Math.min(before[0], s.bounds[0]), Math.min(before[1], s.bounds[1]), Math.max(before[2], s.bounds[2]), Math.max(before[3], s.bounds[3])];
        scene.patch(view, dpr, region, (c, r) => { renderer.draw(c, view, width, height, shapes.values(), options, r); });
      };
    }
  }

  const frames: number[] = [], work: number[] = [];
  const start = performance.now();
  let last = start;
  await new Promise<void>(resolve => {
    const tick = (now: number) => {
      frames.push(now - last); last = now;
      camera(view, now - start);
      const t0 = performance.now(); draw(); work.push(performance.now() - t0);
      if (now - start < seconds * 1000) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  frames.shift();

  // A peer's op arrives: the time until the frame that shows it has been painted (the next frame's start).
  view.fit(W, H, width, height); draw();
  const opToFrame: number[] = [];
  for (let i = 0; i < 60; i++) {
    const arrived = performance.now();
    if (!skip.has('boxes')) applyOp(`b${i}`);
    if (waitShown) { await new Promise<void>(resolve => requestAnimationFrame(() => { draw(); resolve(); })); await waitShown(); }
    await new Promise<void>(resolve => requestAnimationFrame(() => { draw(); requestAnimationFrame(() => { opToFrame.push(performance.now() - arrived); resolve(); }); }));
  }
  return {
    slow, firstRenderMs, workerRenderMs: workerMs.length ? [pct(workerMs, 50), pct(workerMs, 95), pct(workerMs, 100)] : undefined,
    renderer: which, shapes: shapes.size, frames: frames.length,
    frameMs: { p50: pct(frames, 50), p95: pct(frames, 95), p99: pct(frames, 99), max: pct(frames, 100) },
    workMs: { p50: pct(work, 50), p95: pct(work, 95), p99: pct(work, 99) },
    droppedFrames: frames.filter(f => f > 16.7 * 1.5).length,
    opToFrameMs: { p50: pct(opToFrame, 50), p99: pct(opToFrame, 99) },
  };
}

(window as any).benchResult = run();
