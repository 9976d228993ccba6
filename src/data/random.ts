// A small seeded generator for data selection (splits, label noise): same seed, same stream,
// on every platform. Not for cryptography.

/** mulberry32 over a seed mixed with a stream number, so each use gets its own sequence. */
export class Rng {
  #state: number;
  constructor(seed: number, stream = 0) {
    // splitmix-style mixing, so nearby seeds and streams give unrelated sequences.
    let s =
      (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x7feb352d) >>> 0;
    this.#state = Math.imul(s ^ (s >>> 15), 0x846ca68b) >>> 0;
  }

  /** A uniform uint32. */
  nextU32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) {
      throw new Error(`Rng.int: bad range ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let v: number;
    do v = this.nextU32(); while (v >= limit);
    return v % n;
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
