import { RecentAnswers } from './estimate-cache.js';

/** Answers that say how often they were worked out; time moves only when the test says so. */
function setUp(ttlMs = 5_000, capacity = 3) {
  let now = 0;
  const cache = new RecentAnswers<string>(ttlMs, capacity, () => now);
  const worked: string[] = [];
  const ask = (key: string) =>
    cache.answer(key, async () => {
      worked.push(key);
      return `answer ${key}`;
    });
  return { cache, worked, ask, advance: (ms: number) => void (now += ms) };
}

describe(RecentAnswers.name, () => {
  it('answers a key again without working it out until its time is up', async () => {
    const { worked, ask, advance } = setUp();
    await expect(ask('a')).resolves.toBe('answer a');
    advance(4_999);
    await expect(ask('a')).resolves.toBe('answer a');
    expect(worked).toEqual(['a']);
    advance(1);
    await ask('a');
    expect(worked).toEqual(['a', 'a']);
  });

  it('shares the work of a key still being worked out', async () => {
    const { cache } = setUp();
    let calls = 0;
    let finish: (value: string) => void = () => undefined;
    const work = () => {
      calls += 1;
      return new Promise<string>((resolve) => (finish = resolve));
    };
    const answers = [cache.answer('k', work), cache.answer('k', work), cache.answer('k', work)];
    finish('once');
    await expect(Promise.all(answers)).resolves.toEqual(['once', 'once', 'once']);
    expect(calls).toBe(1);
  });

  it('keeps no failure: the next request works it out again', async () => {
    const { cache, worked, ask } = setUp();
    await expect(cache.answer('k', () => Promise.reject(new Error('upstream')))).rejects.toThrow('upstream');
    await expect(ask('k')).resolves.toBe('answer k');
    expect(worked).toEqual(['k']);
  });

  it('keeps at most its capacity, the least recently used going first', async () => {
    const { cache, worked, ask } = setUp(5_000, 3);
    for (const key of ['a', 'b', 'c']) await ask(key);
    await ask('a'); // used again: now b is the least recently used
    await ask('d');
    expect(cache.size).toBe(3);
    await ask('a');
    await ask('c');
    await ask('d');
    expect(worked).toEqual(['a', 'b', 'c', 'd']);
    await ask('b');
    expect(worked).toEqual(['a', 'b', 'c', 'd', 'b']);
  });
});
