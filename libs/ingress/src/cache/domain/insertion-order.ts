/** One item's place in an InsertionOrder: what `remove` takes. */
export interface Place<T> {
  readonly item: T;
  older?: Place<T>;
  newer?: Place<T>;
}

/**
 * Items in the order they were added, the oldest found and any one removed in constant
 * time. A Map's iteration order would do, but walking it from its start steps over every
 * slot deleted since its table was last rebuilt: with entries evicted from the front and
 * added at the back, that is up to as many slots as it holds, on every look at the oldest.
 */
export class InsertionOrder<T> {
  private oldestPlace?: Place<T>;
  private newestPlace?: Place<T>;

  /** Adds `item` as the newest; keep the place to remove it. */
  add(item: T): Place<T> {
    const place: Place<T> = { item, older: this.newestPlace };
    if (this.newestPlace) this.newestPlace.newer = place;
    else this.oldestPlace = place;
    this.newestPlace = place;
    return place;
  }

  remove(place: Place<T>): void {
    if (place.older) place.older.newer = place.newer;
    else if (this.oldestPlace === place) this.oldestPlace = place.newer;
    else return; // not (or no longer) in this order
    if (place.newer) place.newer.older = place.older;
    else this.newestPlace = place.older;
    place.older = undefined;
    place.newer = undefined;
  }

  get oldest(): T | undefined {
    return this.oldestPlace?.item;
  }

  clear(): void {
    this.oldestPlace = undefined;
    this.newestPlace = undefined;
  }
}
