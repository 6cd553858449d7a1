/** A place in a key's queue, taken on arrival. */
export interface QueuePlace {
  /** Resolves once every earlier place of the key is done. */
  readonly reached: Promise<void>;
  /** Done with the place, used or not: those behind it move up once those ahead are done. Call it once. */
  leave(): void;
}

/**
 * One at a time per key, in the order places were taken; different keys run in parallel. A
 * place can be taken before the work is known (on arrival, before lookups whose answers may come
 * back in any order). A key's entry is dropped once its last place is done, so idle keys cost
 * nothing.
 */
export class KeyedQueue {
  protected readonly tails = new Map<string, Promise<void>>();

  enter(key: string): QueuePlace {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const tail = new Promise<void>((resolve) => (done = resolve));
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    // Those behind still wait for those ahead: a place given up early frees nobody out of turn.
    return { reached: previous, leave: () => void previous.then(done) };
  }

  /** Runs `task` when the key's earlier tasks are done. */
  async serially<T>(key: string, task: () => Promise<T>): Promise<T> {
    const place = this.enter(key);
    try {
      await place.reached;
      return await task();
    } finally {
      place.leave();
    }
  }
}
