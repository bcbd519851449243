/**
 * A binary heap of distinct items that knows where each sits, so an item can be removed or
 * re-placed after its priority changed in O(log n), not only the top popped.
 */
export class IndexedHeap<T> {
  private readonly items: T[] = [];
  private readonly positions = new Map<T, number>();

  /** `before(a, b)`: a belongs nearer the top than b. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  has(item: T): boolean {
    return this.positions.has(item);
  }

  /** Adds the item, or re-places it if held (its priority changed). */
  upsert(item: T): void {
    const at = this.positions.get(item);
    if (at === undefined) {
      this.items.push(item);
      this.positions.set(item, this.items.length - 1);
      this.up(this.items.length - 1);
    } else this.down(this.up(at));
  }

  remove(item: T): void {
    const at = this.positions.get(item);
    if (at === undefined) return;
    const last = this.items.pop() as T;
    this.positions.delete(item);
    if (at === this.items.length) return;
    this.items[at] = last;
    this.positions.set(last, at);
    this.down(this.up(at));
  }

  clear(): void {
    this.items.length = 0;
    this.positions.clear();
  }

  /** Moves the item at `at` up while it belongs before its parent; where it ends. */
  private up(at: number): number {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(this.items[at], this.items[parent])) break;
      this.swap(at, parent);
      at = parent;
    }
    return at;
  }

  private down(at: number): void {
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let first = at;
      if (left < this.items.length && this.before(this.items[left], this.items[first])) {
        first = left;
      }
      if (right < this.items.length && this.before(this.items[right], this.items[first])) {
        first = right;
      }
      if (first === at) return;
      this.swap(at, first);
      at = first;
    }
  }

  private swap(a: number, b: number): void {
    const item = this.items[a];
    this.items[a] = this.items[b];
    this.items[b] = item;
    this.positions.set(this.items[a], a);
    this.positions.set(this.items[b], b);
  }
}
