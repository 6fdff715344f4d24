/**
 * A small typed store with subscriptions: the editor's state in one place, so the canvas and the panels repaint
 * because what they show changed, not because some handler remembered to call them.
 */
export class Store<S extends object> {
  private state: S;
  private readonly listeners = new Set<() => void>();

  constructor(initial: S) { this.state = initial; }

  get(): Readonly<S> { return this.state; }

  /** Merges a partial state; listeners whose selected value changed run at once (synchronously). */
  set(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }

  update(fn: (s: Readonly<S>) => Partial<S>): void { this.set(fn(this.state)); }

  /**
   * Calls `fn` whenever `selector`'s result changes (compared with Object.is; an array result element by element,
   * so a selector may pick several fields as a tuple). Returns the unsubscribe function.
   */
  subscribe<T>(selector: (s: Readonly<S>) => T, fn: (value: T) => void): () => void {
    let last = selector(this.state);
    const listener = () => {
      const next = selector(this.state);
      if (same(last, next)) return;
      last = next;
      fn(next);
    };
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((v, i) => Object.is(v, b[i]));
}
