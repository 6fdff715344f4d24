/**
 * Brightness, contrast and gamma of the picture (not of the shapes), for dark aerial shots and low-contrast scans:
 * a CSS filter on the photo and on the tiles canvas, gamma through an SVG transfer function (CSS has no gamma()).
 * The stored pixels are never changed; the choice is kept per browser.
 */
export interface Adjustment { brightness: number; contrast: number; gamma: number }

const Key = 'visionlabel.image-adjust';
export const Neutral: Adjustment = { brightness: 1, contrast: 1, gamma: 1 };

export function loadAdjustment(): Adjustment {
  try { return { ...Neutral, ...JSON.parse(localStorage.getItem(Key) ?? '{}') }; } catch { return { ...Neutral }; }
}

/** Applies it to the editor's stage (the photo and the tiles read --vl-image-filter) and remembers it. */
export function applyAdjustment(stage: HTMLElement, a: Adjustment): void {
  const funcs = document.querySelectorAll<SVGElement>('#vl-gamma feFuncR, #vl-gamma feFuncG, #vl-gamma feFuncB');
  if (funcs.length === 0 && a.gamma !== 1) {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('width', '0'); svg.setAttribute('height', '0'); svg.setAttribute('aria-hidden', 'true');
    svg.style.position = 'absolute';
    svg.innerHTML = '<filter id="vl-gamma" color-interpolation-filters="sRGB"><feComponentTransfer>' +
      ['R', 'G', 'B'].map(c => `<feFunc${c} type="gamma" amplitude="1" exponent="1" offset="0"/>`).join('') + '</feComponentTransfer></filter>';
    document.body.append(svg);
  }
  // Gamma g brightens mid-tones for g > 1: each channel becomes v^(1/g).
  document.querySelectorAll<SVGElement>('#vl-gamma feFuncR, #vl-gamma feFuncG, #vl-gamma feFuncB').forEach(f => f.setAttribute('exponent', String(1 / a.gamma)));
  const parts = [a.brightness !== 1 ? `brightness(${a.brightness})` : '', a.contrast !== 1 ? `contrast(${a.contrast})` : '', a.gamma !== 1 ? 'url(#vl-gamma)' : ''].filter(Boolean);
  stage.style.setProperty('--vl-image-filter', parts.length ? parts.join(' ') : 'none');
  stage.dataset.imageFilter = parts.join(' ');
  localStorage.setItem(Key, JSON.stringify(a));
}
