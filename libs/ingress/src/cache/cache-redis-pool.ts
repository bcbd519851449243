// The response cache's Redis clients, one per URL. When a reload leaves a URL that no
// route names any more (a caching.backend.address changed), its client is retired: new
// requests no longer get it, commands already sent finish (each is bounded by the command
// timeout), then it is disconnected. A request that took the store before the reload and
// calls it afterwards gets a miss or a skipped write, never a closed-connection error.
import type { ResponseCacheStore } from './domain/response-cache-store';

export interface DisconnectableClient {
  disconnect(): void;
}

interface Entry<C> {
  readonly client: C;
  store?: ResponseCacheStore;
  inFlight: number;
  retired: boolean;
}

export class CacheRedisPool<C extends DisconnectableClient> {
  readonly #open: (url: string) => C;
  readonly #pinned: ReadonlySet<string>;
  readonly #entries = new Map<string, Entry<C>>();

  /** `pinned`: URLs never retired (REDIS_URL, which deduplication also uses). */
  constructor(open: (url: string) => C, pinned: readonly string[] = []) {
    this.#open = open;
    this.#pinned = new Set(pinned);
  }

  client(url: string): C {
    return this.#entry(url).client;
  }

  /** The store over `url`'s client, made once by `make`; its calls are counted. */
  store(url: string, make: (client: C) => ResponseCacheStore): ResponseCacheStore {
    const entry = this.#entry(url);
    entry.store ??= this.#tracked(entry, make(entry.client));
    return entry.store;
  }

  /** Retires every client whose URL is neither in `wanted` nor pinned. */
  retainOnly(wanted: ReadonlySet<string>): void {
    for (const [url, entry] of this.#entries) {
      if (wanted.has(url) || this.#pinned.has(url)) continue;
      this.#entries.delete(url);
      entry.retired = true;
      if (entry.inFlight === 0) entry.client.disconnect();
    }
  }

  closeAll(): void {
    for (const entry of this.#entries.values()) entry.client.disconnect();
    this.#entries.clear();
  }

  #entry(url: string): Entry<C> {
    let entry = this.#entries.get(url);
    if (!entry) {
      entry = { client: this.#open(url), inFlight: 0, retired: false };
      this.#entries.set(url, entry);
    }
    return entry;
  }

  #tracked(entry: Entry<C>, inner: ResponseCacheStore): ResponseCacheStore {
    const using = async <T>(idle: T, call: () => Promise<T>): Promise<T> => {
      if (entry.retired) return idle;
      entry.inFlight += 1;
      try {
        return await call();
      } finally {
        entry.inFlight -= 1;
        if (entry.retired && entry.inFlight === 0) entry.client.disconnect();
      }
    };
    return {
      get: (namespace, key) => using(undefined, () => inner.get(namespace, key)),
      set: (namespace, key, value, ttlMs, maxBytes) =>
        using(false, () => inner.set(namespace, key, value, ttlMs, maxBytes)),
      // The pool owns the client: it is closed by retainOnly or closeAll.
      close: () => Promise.resolve(),
    };
  }
}
