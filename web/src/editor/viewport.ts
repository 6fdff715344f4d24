/** Image space ↔ screen space: screen = image * scale + (tx, ty), in CSS pixels of the stage. */
export class Viewport {
  scale = 1;
  tx = 0;
  ty = 0;

  toImage(sx: number, sy: number): [number, number] { return [(sx - this.tx) / this.scale, (sy - this.ty) / this.scale]; }
  toScreen(ix: number, iy: number): [number, number] { return [ix * this.scale + this.tx, iy * this.scale + this.ty]; }

  /** The whole image in view, centred, with a small margin. */
  fit(imageWidth: number, imageHeight: number, width: number, height: number): void {
    this.scale = Math.min(width / imageWidth, height / imageHeight) * 0.96;
    this.tx = (width - imageWidth * this.scale) / 2;
    this.ty = (height - imageHeight * this.scale) / 2;
  }

  /** Zooms by `factor` keeping the image point under (sx, sy) where it is. */
  zoomAt(sx: number, sy: number, factor: number): void {
    const scale = Math.min(64, Math.max(0.01, this.scale * factor));
    const [ix, iy] = this.toImage(sx, sy);
    this.scale = scale;
    this.tx = sx - ix * scale;
    this.ty = sy - iy * scale;
  }

  pan(dx: number, dy: number): void { this.tx += dx; this.ty += dy; }
}
