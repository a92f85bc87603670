/**
 * The order rows are sent in. `sequential`: every row once, in
 * index order, in batches that never end between two copies of one index
 * (so "last acknowledged index" is a safe resume point). `random`: the
 * original emulation's sampling, reproduced draw for draw: Python's
 * `random.seed(S)`, then per sample `sleep(randrange(0, 2))` and
 * `randint(0, 11000)`. Pacing (`--rate`) is `transfer/pacing.ts`'s.
 *
 * @example
 * ```ts
 * import { OriginalSampler } from "./row_order.ts";
 * const sampler = new OriginalSampler(100, 11_000);
 * sampler.next(); // { pause: 0, offset: 7528 }, as the original's first draw
 * ```
 */
import type { OutgoingRecord } from "../core/records.ts";

/**
 * MT19937, seeded as CPython's `random.seed(int)` does (init_by_array with
 * the integer's 32-bit words), so draws equal Python's for the same seed.
 */
export class PythonRandom {
  #state = new Uint32Array(624);
  #position = 624;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed ${seed} must be a whole number`);
    let rest = BigInt(Math.abs(seed));
    const key: number[] = [];
    do {
      key.push(Number(rest & 0xffffffffn));
      rest >>= 32n;
    } while (rest > 0n);
    this.#initByArray(key);
  }

  #initGenrand(seed: number): void {
    const mt = this.#state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
  }

  #initByArray(key: number[]): void {
    const mt = this.#state;
    this.#initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(previous, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      const previous = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(previous, 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.#position = 624;
  }

  /** The next 32-bit output of the generator. */
  uint32(): number {
    const mt = this.#state;
    if (this.#position >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.#position = 0;
    }
    let y = mt[this.#position++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Python's `_randbelow(n)` for n up to 2^32: rejection sampling on `getrandbits`. */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 32) throw new Error(`bad bound ${n}`);
    const bits = Math.floor(Math.log2(n)) + 1;
    for (;;) {
      const draw = bits === 32 ? this.uint32() : this.uint32() >>> (32 - bits);
      if (draw < n) return draw;
    }
  }

  /** Python's `randint(a, b)`: a whole number from a to b inclusive. */
  randint(a: number, b: number): number {
    return a + this.below(b - a + 1);
  }
}

/** One draw of the original loop: the pause before it (seconds) and the row offset. */
export interface Sample {
  pause: number;
  offset: number;
}

/**
 * The original emulation's draws: `sleep(randrange(0, 2))`, then
 * `randint(0, maxOffset)`. The pause is drawn even when not slept, so the
 * offsets stay those of the original for the same seed.
 */
export class OriginalSampler {
  #random: PythonRandom;
  /** How many samples have been drawn. */
  drawn = 0;

  constructor(seed: number, readonly maxOffset: number) {
    this.#random = new PythonRandom(seed);
  }

  /** The next sample. */
  next(): Sample {
    const pause = this.#random.below(2);
    const offset = this.#random.randint(0, this.maxOffset);
    this.drawn++;
    return { pause, offset };
  }

  /** Draws and discards `count` samples (resuming after a checkpoint). */
  skip(count: number): void {
    for (let i = 0; i < count; i++) this.next();
  }
}

/**
 * Groups records into batches of about `size`: a batch is closed only when
 * the next record has a different index, so the copies of one index always
 * travel in the same batch.
 */
export async function* indexBatches(
  records: AsyncIterable<OutgoingRecord | OutgoingRecord[]>,
  size: number,
): AsyncGenerator<OutgoingRecord[]> {
  let batch: OutgoingRecord[] = [];
  for await (const item of records) {
    // Records come one by one or in arrays (as a source's rows arrive); batches are the same.
    for (const record of Array.isArray(item) ? item : [item]) {
      if (batch.length >= size && batch[batch.length - 1].index !== record.index) {
        yield batch;
        batch = [];
      }
      batch.push(record);
    }
  }
  if (batch.length) yield batch;
}

/**
 * Keeps one `next()` of `source` in flight while the consumer works on the
 * current item, so reading the next batch overlaps sending this one.
 */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // A read that fails while the consumer is busy is rethrown at the next await, not reported
  // as an unhandled rejection that kills the process before the driver can checkpoint.
  const read = () => {
    const next = iterator.next();
    next.catch(() => {});
    return next;
  };
  let pending = read();
  try {
    for (;;) {
      const { done, value } = await pending;
      if (done) return;
      pending = read();
      yield value;
    }
  } finally {
    // Settle the read in flight before closing, so its error is not unhandled.
    await pending.catch(() => {});
    await iterator.return?.();
  }
}
