// GPU identification scoring: distractor tiles scored against all probes (score_tile) and
// merged into each probe's running top-K (topk_merge), so a million distractors never make
// a full probe × distractor matrix. CPU reference: src/ref/topk.ts.
import { type Dispatch, type Gpu, params, type Tensor } from "../device.ts";
import { SCORE_TM, SCORE_TN4 } from "../../../kernels/score_tile_gen.ts";

/** Each probe's K best distractor scores (descending) and indices, after `seen` distractors. */
export interface TopK {
  val: Float32Array;
  idx: Uint32Array;
  K: number;
  probes: number;
  seen: number;
}

export interface TopKOptions {
  /** Scores kept per probe. */
  K?: number;
  /** Distractors scored per tile (capped so the score tile fits the device and ~64 MiB). */
  tileRows?: number;
}

const EMPTY = 0xffffffff;
const TILE_BYTES = 64 * 1024 * 1024;

/** score_tile reads vec4s: rows are zero-padded to a multiple of 4 values. */
const padded = (D: number) => Math.ceil(D / 4) * 4;

function padRows(rows: Float32Array, count: number, D: number): Float32Array {
  const Dp = padded(D);
  if (Dp === D) return rows.subarray(0, count * D);
  const out = new Float32Array(count * Dp);
  for (let r = 0; r < count; r++) out.set(rows.subarray(r * D, (r + 1) * D), r * Dp);
  return out;
}

/** Probes (P × D) as Qt (padded D × padded P): score_tile reads 4 adjacent probes per load. */
function transposePadded(probes: Float32Array, P: number, D: number): Float32Array {
  const Pp = padded(P);
  const out = new Float32Array(padded(D) * Pp);
  for (let p = 0; p < P; p++) for (let d = 0; d < D; d++) out[d * Pp + p] = probes[p * D + d];
  return out;
}

/** Splits a workgroup count over (x, y) within the per-dimension limit. */
function grid(groups: number, max: number): [number, number] {
  const x = Math.max(1, Math.min(groups, max));
  return [x, Math.ceil(groups / x)];
}

/** Running top-K of probe × distractor scores; feed distractors in order with `push`. */
export class DistractorTopK {
  readonly tileRows: number;
  seen = 0;
  #tiles = new Map<number, Dispatch[]>();
  #inFlight = 0;

  private constructor(
    readonly gpu: Gpu,
    readonly probes: number,
    readonly dim: number,
    readonly K: number,
    tileRows: number,
    readonly q: Tensor,
    readonly x: Tensor,
    readonly s: Tensor,
    readonly topVal: Tensor,
    readonly topIdx: Tensor,
    readonly scoreU: GPUBuffer,
    readonly mergeU: GPUBuffer,
  ) {
    this.tileRows = tileRows;
  }

  /** Uploads the probes (P × D, row-major, L2-normalised) and empties the lists. */
  static create(
    gpu: Gpu,
    probes: Float32Array,
    P: number,
    D: number,
    opts: TopKOptions = {},
  ): DistractorTopK {
    const K = opts.K ?? 32;
    if (probes.length !== P * D) {
      throw new RangeError(`DistractorTopK: ${probes.length} probe values, expected ${P}×${D}`);
    }
    if (!Number.isInteger(K) || K < 1) {
      throw new RangeError(`DistractorTopK: K must be a positive integer, got ${K}`);
    }
    const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    const cap = Math.floor(Math.min(limit, TILE_BYTES) / (4 * Math.max(padded(P), padded(D))));
    const tileRows = Math.max(1, Math.min(opts.tileRows ?? 4096, cap));
    if (cap < 1 || P * D * 4 > limit) {
      throw new RangeError(
        `DistractorTopK: ${P} probes of dimension ${D} exceed the device's buffer limit; split the probes`,
      );
    }
    const op = new DistractorTopK(
      gpu,
      P,
      D,
      K,
      tileRows,
      gpu.tensor([padded(D), padded(P)], "topk.qt", transposePadded(probes, P, D)),
      gpu.tensor([tileRows, padded(D)], "topk.x"),
      gpu.tensor([tileRows, padded(P)], "topk.s"),
      gpu.tensor([P, K], "topk.val", new Float32Array(P * K).fill(-Infinity)),
      gpu.tensor([P, K], "topk.idx", new Uint32Array(P * K).fill(EMPTY)),
      gpu.uniform(new ArrayBuffer(16), "score_tile.u"),
      gpu.uniform(new ArrayBuffer(32), "topk_merge.u"),
    );
    return op;
  }

  /** Scores `count` distractors (count × D values, at most tileRows) and merges them. */
  async push(rows: Float32Array, count = rows.length / this.dim): Promise<void> {
    if (count < 1) return;
    if (count > this.tileRows || rows.length < count * this.dim) {
      throw new RangeError(`DistractorTopK.push: ${count} rows, tiles hold ${this.tileRows}`);
    }
    const { gpu } = this;
    const max = gpu.limits.maxComputeWorkgroupsPerDimension;
    const [sx, sy] = this.#scoreGrid(count);
    const [mx, my] = grid(Math.ceil(this.probes / 64), max);
    gpu.write(this.x, padRows(rows, count, this.dim));
    gpu.write(
      this.scoreU,
      new Uint8Array(
        params([["u32", count], ["u32", padded(this.probes) / 4], ["u32", padded(this.dim) / 4], [
          "u32",
          sx,
        ]]),
      ),
    );
    gpu.write(
      this.mergeU,
      new Uint8Array(
        params([
          ["u32", this.probes],
          ["u32", count],
          ["u32", this.seen],
          ["u32", this.K],
          ["u32", mx * 64],
          ["u32", padded(this.probes)],
        ]),
      ),
    );
    let list = this.#tiles.get(count);
    if (!list) {
      list = [
        await gpu.dispatch("score_tile", {
          uniforms: this.scoreU,
          tensors: [this.x, this.q, this.s],
          groups: [sx, sy],
        }),
        await gpu.dispatch("topk_merge", {
          uniforms: this.mergeU,
          tensors: [this.s, this.topVal, this.topIdx],
          groups: [mx, my],
        }),
      ];
      this.#tiles.set(count, list);
    }
    gpu.run(list);
    this.seen += count;
    // Keep at most two tiles queued: writeBuffer copies each tile, so running far ahead of
    // the device would hold every pending tile in memory.
    if (++this.#inFlight >= 2) {
      await gpu.sync();
      this.#inFlight = 0;
    }
  }

  /** Elements between rows of the score tile `s` (probes padded to a multiple of 4). */
  get stride(): number {
    return padded(this.probes);
  }

  /** Scores `count` rows against the probes (count × P, f32) and leaves the lists alone. */
  async scoreRows(rows: Float32Array, count = rows.length / this.dim): Promise<Float32Array> {
    if (count < 1 || count > this.tileRows) {
      throw new RangeError(`DistractorTopK.scoreRows: ${count} rows, tiles hold ${this.tileRows}`);
    }
    const { gpu } = this;
    const [sx, sy] = this.#scoreGrid(count);
    gpu.write(this.x, padRows(rows, count, this.dim));
    gpu.write(
      this.scoreU,
      new Uint8Array(
        params([["u32", count], ["u32", padded(this.probes) / 4], ["u32", padded(this.dim) / 4], [
          "u32",
          sx,
        ]]),
      ),
    );
    gpu.run([
      await gpu.dispatch("score_tile", {
        uniforms: this.scoreU,
        tensors: [this.x, this.q, this.s],
        groups: [sx, sy],
      }),
    ]);
    const [s] = await gpu.read(this.s);
    this.#inFlight = 0;
    // Drop the padding columns: rows × probes, as the interface promises.
    const Pp = padded(this.probes), out = new Float32Array(count * this.probes);
    for (let r = 0; r < count; r++) {
      out.set(s.subarray(r * Pp, r * Pp + this.probes), r * this.probes);
    }
    return out;
  }

  /** score_tile's grid for `count` rows: blocks of 8·SCORE_TM rows × 32·SCORE_TN4 probes. */
  #scoreGrid(count: number): [number, number] {
    const groups = Math.ceil(padded(this.probes) / 4 / (8 * SCORE_TN4)) *
      Math.ceil(count / (8 * SCORE_TM));
    return grid(groups, this.gpu.limits.maxComputeWorkgroupsPerDimension);
  }

  /** The current lists (one queue round trip). */
  async read(): Promise<TopK> {
    const [val, idx] = await this.gpu.read(this.topVal, this.topIdx);
    this.#inFlight = 0;
    return {
      val,
      idx: new Uint32Array(idx.buffer),
      K: this.K,
      probes: this.probes,
      seen: this.seen,
    };
  }

  /** Frees the device buffers. */
  destroy(): void {
    for (const t of [this.q, this.x, this.s, this.topVal, this.topIdx]) t.buffer.destroy();
    this.scoreU.destroy();
    this.mergeU.destroy();
  }
}
