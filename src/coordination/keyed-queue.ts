/** A place in a key's line, taken on arrival: its task runs once every earlier place is done. */
export interface Place {
  /** Runs `task` when the places before this one are done; the place is done when it settles. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Gives the place up unused (or after `run`: no effect). Those behind it move up once those ahead are done. */
  leave(): void;
}

/**
 * Runs tasks one at a time per key, in the order their places were taken; different keys run
 * in parallel. A place can be taken before the task is known (on arrival, before lookups whose
 * answers may come back in any order). A key's entry is dropped once its last place is done,
 * so idle keys cost nothing.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  enter(key: string): Place {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const tail = new Promise<void>((resolve) => (done = resolve));
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return {
      run: async (task) => {
        try {
          await previous;
          return await task();
        } finally {
          done();
        }
      },
      // Those behind still wait for those ahead: the place is given up, not the line.
      leave: () => void previous.then(done),
    };
  }

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.enter(key).run(task);
  }

  /** Number of keys with work queued or running. */
  get activeKeys(): number {
    return this.tails.size;
  }
}
