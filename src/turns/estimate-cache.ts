/**
 * How long an estimate is answered again without counting. A few seconds: long enough to take
 * a burst of identical requests (a client retrying, a page re-asking), short enough that what the
 * key does not cover (the model table, Gemini's own counting) cannot be stale for long.
 */
export const ESTIMATE_CACHE_MS = 5_000;
/** Entries kept at most; past it the least recently used goes. Each is a hash and a few numbers. */
export const ESTIMATE_CACHE_ENTRIES = 1_000;

interface Entry<T> {
  answer: Promise<T>;
  /** Infinity while the answer is being worked out: identical requests meanwhile wait for it. */
  expiresAt: number;
}

/**
 * Recent answers by key, in this process only: an optimisation, not a guarantee (each instance
 * of a cluster keeps its own, so a caller may get one count per instance). A request that comes
 * while the same key is being worked out shares that work; a failure is not kept, so the next
 * request tries again.
 */
export class RecentAnswers<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs = ESTIMATE_CACHE_MS,
    private readonly capacity = ESTIMATE_CACHE_ENTRIES,
    private readonly clock: () => number = Date.now,
  ) {}

  answer(key: string, work: () => Promise<T>): Promise<T> {
    const found = this.entries.get(key);
    // Deleted and set again: a Map keeps insertion order, so the front is the least recently used.
    this.entries.delete(key);
    if (found && found.expiresAt > this.clock()) {
      this.entries.set(key, found);
      return found.answer;
    }
    const entry: Entry<T> = { answer: work(), expiresAt: Infinity };
    this.entries.set(key, entry);
    entry.answer.then(
      () => void (entry.expiresAt = this.clock() + this.ttlMs),
      () => void (this.entries.get(key) === entry && this.entries.delete(key)),
    );
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
    return entry.answer;
  }

  get size(): number {
    return this.entries.size;
  }
}
