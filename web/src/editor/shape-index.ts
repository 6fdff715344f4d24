import RBush from 'rbush';
import type { Shape } from './shapes';

interface Entry { minX: number; minY: number; maxX: number; maxY: number; shape: Shape }

/**
 * An R-tree (rbush) over the shapes' bounds, so a paint or a hit test visits only the shapes that meet a rectangle
 * instead of all 100,000. `sync` brings it up to date with the shapes as they are now, by object identity (a changed
 * shape is a new object: live.ts applies ops immutably), so a peer's op costs one remove and one insert; a first load
 * or a wholesale change is bulk-loaded, which is faster than inserting one by one.
 */
export class ShapeIndex {
  private tree = new RBush<Entry>();
  private entries = new Map<string, Entry>();

  get size(): number { return this.entries.size; }

  /** Makes the index hold exactly `shapes`; `changed`, when known, names the only ids that may differ. */
  sync(shapes: ReadonlyMap<string, Shape>, changed?: readonly string[] | null): void {
    if (changed) { for (const id of changed) this.put(id, shapes.get(id)); return; }
    let differing = 0;
    for (const [id, s] of shapes) if (this.entries.get(id)?.shape !== s) differing++;
    for (const id of this.entries.keys()) if (!shapes.has(id)) differing++;
    if (differing === 0) return;
    if (differing > 1000 || differing > shapes.size / 4) { // cheaper to build again than to move each
      this.entries = new Map([...shapes].map(([id, shape]) => [id, entry(shape)]));
      this.tree = new RBush<Entry>().load([...this.entries.values()]);
      return;
    }
    for (const [id, s] of shapes) if (this.entries.get(id)?.shape !== s) this.put(id, s);
    for (const id of [...this.entries.keys()]) if (!shapes.has(id)) this.put(id, undefined);
  }

  /** Sets (or with undefined removes) one shape. */
  put(id: string, shape: Shape | undefined): void {
    const old = this.entries.get(id);
    if (old?.shape === shape) return;
    if (old) { this.tree.remove(old); this.entries.delete(id); }
    if (shape) { const e = entry(shape); this.tree.insert(e); this.entries.set(id, e); }
  }

  /** The shapes whose bounds meet [x0, y0]-[x1, y1] (image pixels), in no particular order. */
  search(x0: number, y0: number, x1: number, y1: number): Shape[] {
    return this.tree.search({ minX: x0, minY: y0, maxX: x1, maxY: y1 }).map(e => e.shape);
  }
}

const entry = (shape: Shape): Entry => ({ minX: shape.bounds[0], minY: shape.bounds[1], maxX: shape.bounds[2], maxY: shape.bounds[3], shape });
