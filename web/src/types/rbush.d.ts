// rbush 4 ships no types: the part of its API the editor uses (https://github.com/mourner/rbush).
declare module 'rbush' {
  export interface BBox { minX: number; minY: number; maxX: number; maxY: number }
  export default class RBush<T extends BBox> {
    constructor(maxEntries?: number);
    insert(item: T): this;
    load(items: T[]): this;
    remove(item: T): this;
    clear(): this;
    search(box: BBox): T[];
    all(): T[];
  }
}
