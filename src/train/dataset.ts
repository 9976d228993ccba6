// The training set: the incoming faces stream read once into a cache (memory when it fits,
// otherwise a file in the run folder), with its checksum, and batches drawn from it in a
// seeded order with seeded flips — both functions of (seed, epoch, step) only, so a resumed
// run draws exactly what an uninterrupted one would.
import { createHash } from "node:crypto";
import { InputError } from "../cli/errors.ts";
import type { RecordStream } from "../format/stream.ts";
import { faceToInput } from "../model/input.ts";
import type { ModelConfig } from "../model/model_file.ts";
import { hash32, permutation } from "../util/random.ts";

/** Above this many pixel bytes the cache spills to a file. */
export const MEMORY_CACHE_LIMIT = 4 * 1024 ** 3;

export interface FaceSet {
  size: number;
  rows: number;
  classes: number;
  labels: Int32Array;
  /** sha256 of the ids, labels and pixels in stream order. */
  checksum: string;
  /** Copies row `i`'s S·S·3 bytes into `out`. */
  read(i: number, out: Uint8Array): void;
  close(): void;
}

/** Reads a faces stream to the end into a cache; `spillDir` receives the file when it is too big. */
export async function cacheFaces(
  stream: RecordStream<"faces">,
  spillDir: string,
  memoryLimit = MEMORY_CACHE_LIMIT,
): Promise<FaceSet> {
  const size = stream.meta.size!;
  const stride = size * size * 3;
  const hash = createHash("sha256");
  const labels: number[] = [];
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  let file: Deno.FsFile | null = null;
  const spillPath = `${spillDir}/faces.cache`;
  for await (const b of stream.batches()) {
    for (let i = 0; i < b.length; i++) {
      if (b.label[i] < 0) {
        throw new InputError(
          `${stream.source}: record ${b.id[i]} has no label (−1)`,
          "training needs labelled faces; prepare assigns labels from the identity folders or the list file",
        );
      }
      labels.push(b.label[i]);
      hash.update(b.id[i]).update(new Uint8Array(Int32Array.of(b.label[i]).buffer));
    }
    hash.update(b.pixels);
    bytes += b.pixels.length;
    if (!file && bytes > memoryLimit) {
      await Deno.mkdir(spillDir, { recursive: true });
      file = await Deno.open(spillPath, { read: true, write: true, create: true, truncate: true });
      for (const c of chunks) await writeAll(file, c);
      chunks.length = 0;
    }
    if (file) await writeAll(file, b.pixels);
    else chunks.push(b.pixels);
  }
  const rows = labels.length;
  const labelArr = Int32Array.from(labels);
  const classes = rows === 0 ? 0 : Math.max(...labelArr) + 1;
  const checksum = hash.digest("hex");
  if (file) {
    const f = file;
    return {
      size,
      rows,
      classes,
      labels: labelArr,
      checksum,
      read(i, out) {
        f.seekSync(i * stride, Deno.SeekMode.Start);
        let at = 0;
        while (at < stride) {
          const n = f.readSync(out.subarray(at, stride));
          if (n === null) throw new Error(`${spillPath}: cache file ended early at row ${i}`);
          at += n;
        }
      },
      close() {
        f.close();
        try {
          Deno.removeSync(spillPath);
        } catch { /* already gone */ }
      },
    };
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) (all.set(c, at), at += c.length);
  return {
    size,
    rows,
    classes,
    labels: labelArr,
    checksum,
    read(i, out) {
      out.set(all.subarray(i * stride, (i + 1) * stride));
    },
    close() {},
  };
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await f.write(data.subarray(at));
}

/** Steps in one epoch: the last partial batch is dropped, as arcface_torch's loader does. */
export function stepsPerEpoch(rows: number, batch: number): number {
  return Math.floor(rows / batch);
}

/** The dataset rows of global step `step` (0-based), from the epoch's seeded permutation. */
export function batchIndices(seed: number, rows: number, batch: number, step: number): Uint32Array {
  const per = stepsPerEpoch(rows, batch);
  const epoch = Math.floor(step / per);
  const within = step % per;
  return permutation(rows, seed, 0x5eed0000 + epoch).slice(within * batch, (within + 1) * batch);
}

/**
 * The same rows as `batchIndices`, keeping the current epoch's permutation so a training
 * loop draws each step without re-shuffling the whole set (and without allocating).
 */
export class EpochOrder {
  #epoch = -1;
  #order: Uint32Array = new Uint32Array(0);
  readonly perEpoch: number;
  constructor(readonly seed: number, readonly rows: number, readonly batch: number) {
    this.perEpoch = stepsPerEpoch(rows, batch);
    if (this.perEpoch < 1) {
      throw new Error(`EpochOrder: ${rows} rows do not fill one batch of ${batch}`);
    }
  }
  /** The rows of 0-based global step `step` (a view, valid until the next call). */
  indices(step: number): Uint32Array {
    const epoch = Math.floor(step / this.perEpoch);
    if (epoch !== this.#epoch) {
      this.#order = permutation(this.rows, this.seed, 0x5eed0000 + epoch);
      this.#epoch = epoch;
    }
    const within = step % this.perEpoch;
    return this.#order.subarray(within * this.batch, (within + 1) * this.batch);
  }
}

/**
 * Fills an NCHW float batch from cached rows with seeded horizontal flips; returns the
 * labels (written into `labelsOut` when given, so a training loop reuses one array).
 */
export function fillBatch(
  set: FaceSet,
  indices: Uint32Array,
  out: Float32Array,
  opts: { flip: boolean; seed: number; step: number; norm: ModelConfig["normalisation"] },
  scratch: Uint8Array = new Uint8Array(set.size * set.size * 3),
  labelsOut: Int32Array | Uint32Array = new Int32Array(indices.length),
): Int32Array | Uint32Array {
  const S = set.size;
  const labels = labelsOut;
  for (let n = 0; n < indices.length; n++) {
    const row = indices[n];
    set.read(row, scratch);
    labels[n] = set.labels[row];
    const flip = opts.flip && (hash32(opts.seed, 0xf11b, opts.step, n) & 1) === 1;
    faceToInput(scratch, S, opts.norm, out, n, flip);
  }
  return labels;
}
