// Independent reference pipeline for VisionLabel's inference tests.
//
//   node reference.mjs --model M.onnx --images DIR --count N --out fixture.json [--family ultralytics|yolox]
//                      [--names FILE] [--conf 0.25] [--iou 0.7]
//
// Plain, scalar JavaScript written from the published contracts (Ultralytics LetterBox / non_max_suppression /
// process_mask_native, YOLOX preproc / postprocess), run through onnxruntime-node, with JPEGs decoded by
// libjpeg-turbo's own `djpeg`. It shares no code with the C# engine. The letterbox uses the same documented
// integer bilinear arithmetic as the engine, so both feed the model the same tensor.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ort from 'onnxruntime-node';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const family = args.family ?? 'ultralytics';
const conf = Number(args.conf ?? 0.25);
const iouThreshold = Number(args.iou ?? (family === 'yolox' ? 0.45 : 0.7));

function roundHalfEven(x) {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function decodeJpeg(path) {
  const ppm = execFileSync('djpeg', ['-ppm', path], { maxBuffer: 1 << 30 });
  // P6\n<w> <h>\n<max>\n<bytes>
  let pos = 0;
  const token = () => {
    while (/\s/.test(String.fromCharCode(ppm[pos]))) pos++;
    let s = '';
    while (!/\s/.test(String.fromCharCode(ppm[pos]))) s += String.fromCharCode(ppm[pos++]);
    return s;
  };
  const magic = token(); // P6 colour, or P5 when the JPEG is greyscale
  if (magic !== 'P6' && magic !== 'P5') throw new Error(`unexpected djpeg output ${magic}`);
  const width = Number(token()), height = Number(token());
  token();
  pos++;
  if (magic === 'P6') return { width, height, rgb: ppm.subarray(pos, pos + width * height * 3) };
  const rgb = new Uint8Array(width * height * 3); // grey replicated to RGB, as TurboJPEG does for TJPF_RGB
  for (let i = 0; i < width * height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = ppm[pos + i];
  return { width, height, rgb };
}

// Source index and 11-bit weight of the first bilinear tap (pixel centres aligned, as OpenCV INTER_LINEAR).
function tap(d, scale, size) {
  let f = (d + 0.5) * scale - 0.5;
  let s = Math.floor(f);
  f -= s;
  if (s < 0) { s = 0; f = 0; }
  if (s >= size - 1) { s = size - 1; f = 0; }
  return [s, roundHalfEven((1 - f) * 2048)];
}

function letterbox(img, inW, inH) {
  const r = Math.min(inH / img.height, inW / img.width);
  let w, h, left, top;
  if (family === 'yolox') {
    w = Math.max(1, Math.trunc(img.width * r)); h = Math.max(1, Math.trunc(img.height * r)); left = 0; top = 0;
  } else {
    w = Math.max(1, roundHalfEven(img.width * r)); h = Math.max(1, roundHalfEven(img.height * r));
    left = roundHalfEven((inW - w) / 2 - 0.1); top = roundHalfEven((inH - h) / 2 - 0.1);
  }
  const unit = family === 'yolox' ? 1 : Math.fround(1 / 255);
  const order = family === 'yolox' ? [2, 1, 0] : [0, 1, 2]; // tensor channel -> source channel
  const plane = inW * inH;
  const tensor = new Float32Array(3 * plane).fill(Math.fround(114 * unit));
  const sx = img.width / w, sy = img.height / h;
  for (let y = 0; y < h; y++) {
    const [y0, wy] = tap(y, sy, img.height);
    const y1 = Math.min(y0 + 1, img.height - 1);
    for (let x = 0; x < w; x++) {
      const [x0, wx] = tap(x, sx, img.width);
      const x1 = Math.min(x0 + 1, img.width - 1);
      for (let c = 0; c < 3; c++) {
        const s = order[c];
        const p = (yy, xx) => img.rgb[(yy * img.width + xx) * 3 + s];
        const top_ = p(y0, x0) * wx + p(y0, x1) * (2048 - wx);
        const bottom = p(y1, x0) * wx + p(y1, x1) * (2048 - wx);
        const v = Math.floor((top_ * wy + bottom * (2048 - wy) + (1 << 21)) / (1 << 22));
        tensor[c * plane + (y + top) * inW + (x + left)] = v * unit; // Float32Array rounds the double product once
      }
    }
  }
  return { tensor, r, left, top };
}

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

function nms(cands) {
  cands.sort((a, b) => b.score - a.score || a.anchor - b.anchor);
  const kept = [];
  for (const c of cands) {
    if (kept.some(k => k.cls === c.cls && iou(k.xyxy, c.xyxy) > iouThreshold)) continue;
    kept.push(c);
    if (kept.length === 300) break;
  }
  return kept;
}

function maskCounts(det, protos, pc, ph, pw, img, box) {
  // process_mask_native: logits = coeffs . protos; cut the padding in proto space; bilinear (align_corners=false)
  // to the original size; keep pixels with x1 <= px < x2, y1 <= py < y2; logit > 0. COCO RLE, column-major.
  const gain = Math.min(ph / img.height, pw / img.width);
  const padX = Math.trunc((pw - img.width * gain) / 2), padY = Math.trunc((ph - img.height * gain) / 2);
  const cropW = pw - 2 * padX, cropH = ph - 2 * padY;
  const logit = (gy, gx) => {
    let s = 0;
    for (let k = 0; k < pc; k++) s += det.coeffs[k] * protos[k * ph * pw + (gy + padY) * pw + gx + padX];
    return s;
  };
  const src = (d, scale, size) => {
    const s = Math.max(0, (d + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(s), size - 1);
    return [i0, i0 < size - 1 ? i0 + 1 : i0, s - i0];
  };
  const [bx1, by1, bx2, by2] = box;
  const counts = [];
  let run = 0, current = 0;
  const cache = new Map();
  const L = (gy, gx) => { const k = gy * pw + gx; if (!cache.has(k)) cache.set(k, logit(gy, gx)); return cache.get(k); };
  for (let x = 0; x < img.width; x++) {
    for (let y = 0; y < img.height; y++) {
      let v = 0;
      if (x >= bx1 && x < bx2 && y >= by1 && y < by2) {
        const [i0, i1, lx] = src(x, cropW / img.width, cropW);
        const [j0, j1, ly] = src(y, cropH / img.height, cropH);
        const val = (1 - ly) * ((1 - lx) * L(j0, i0) + lx * L(j0, i1)) + ly * ((1 - lx) * L(j1, i0) + lx * L(j1, i1));
        v = val > 0 ? 1 : 0;
      }
      if (v !== current) { counts.push(run); run = 0; current = v; }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

const session = await ort.InferenceSession.create(args.model, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
const input = session.inputNames[0];
const inMeta = session.inputMetadata?.[0];
const [inH, inW] = inMeta?.shape ? inMeta.shape.slice(2) : (family === 'yolox' ? [416, 416] : [640, 640]);
const files = readdirSync(args.images).filter(f => /\.jpe?g$/i.test(f)).sort().slice(0, Number(args.count ?? 16));
const images = [];
for (const file of files) {
  const img = decodeJpeg(join(args.images, file));
  const { tensor, r, left, top } = letterbox(img, inW, inH);
  const out = await session.run({ [input]: new ort.Tensor('float32', tensor, [1, 3, inH, inW]) });
  const o0 = out[session.outputNames[0]];
  const data = o0.data;
  const cands = [];
  if (family === 'yolox') {
    const [, n, width] = o0.dims;
    let a = 0;
    for (const stride of [8, 16, 32]) {
      for (let gy = 0; gy < inH / stride; gy++) for (let gx = 0; gx < inW / stride; gx++, a++) {
        const row = a * width;
        let cls = 0;
        for (let c = 1; c < width - 5; c++) if (data[row + 5 + c] > data[row + 5 + cls]) cls = c;
        const score = Math.fround(data[row + 4] * data[row + 5 + cls]);
        if (!(score >= conf)) continue;
        const cx = (data[row] + gx) * stride, cy = (data[row + 1] + gy) * stride;
        const w = Math.exp(data[row + 2]) * stride, h = Math.exp(data[row + 3]) * stride;
        cands.push({ anchor: a, cls, score, xyxy: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
      }
    }
  } else {
    const [, channels, n] = o0.dims;
    const masks = out[session.outputNames[1]];
    const nm = masks ? masks.dims[1] : 0;
    const nc = channels - 4 - nm;
    for (let a = 0; a < n; a++) {
      let cls = 0;
      for (let c = 1; c < nc; c++) if (data[(4 + c) * n + a] > data[(4 + cls) * n + a]) cls = c;
      const score = data[(4 + cls) * n + a];
      if (!(score > conf)) continue;
      const cx = data[a], cy = data[n + a], w = data[2 * n + a], h = data[3 * n + a];
      const coeffs = Array.from({ length: nm }, (_, k) => data[(4 + nc + k) * n + a]);
      cands.push({ anchor: a, cls, score, xyxy: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], coeffs });
    }
  }
  const detections = nms(cands).map(d => {
    const clip = (v, max) => Math.min(Math.max(v, 0), max);
    const b = [clip((d.xyxy[0] - left) / r, img.width), clip((d.xyxy[1] - top) / r, img.height),
               clip((d.xyxy[2] - left) / r, img.width), clip((d.xyxy[3] - top) / r, img.height)];
    const result = { class: d.cls, score: d.score, box: [b[0], b[1], b[2] - b[0], b[3] - b[1]] };
    const protos = out[session.outputNames[1]];
    if (protos && family !== 'yolox') {
      const [, pc, ph, pw] = protos.dims;
      result.counts = maskCounts(d, protos.data, pc, ph, pw, img, b);
    }
    return result;
  });
  images.push({ file, width: img.width, height: img.height, detections });
  process.stderr.write(`${file}: ${detections.length}\n`);
}
writeFileSync(args.out, JSON.stringify({
  model: basename(args.model), family, conf, iou: iouThreshold, runtime: `onnxruntime-node ${ort.env.versions?.common ?? '1.30.0'}`,
  images,
}));
