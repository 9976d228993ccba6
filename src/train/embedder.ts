// Batched inference on the GPU: aligned faces (S·S·3 RGB bytes each) in, features out,
// optionally summed with the features of the mirrored face (insightface's flip
// convention). Shared by `p2sgrad embed` and the trainer's validation, so both compute
// embeddings the same way.
//
//   const e = await Embedder.create(gpu, config, { batch: 64, flip: true, state });
//   const pending = e.submit(pixels, count);   // queued: prepare the next batch meanwhile
//   const feats = await pending;               // count×D, before L2 normalisation
import type { Gpu } from "../gpu/device.ts";
import { Tensor } from "../gpu/device.ts";
import { buildModel, type Model } from "../model/mod.ts";
import { faceToInput } from "../model/input.ts";
import type { ModelConfig } from "../model/model_file.ts";

export interface EmbedderOptions {
  /** Faces per submit; halved automatically while the device's binding limit refuses it. */
  batch: number;
  /** Also run the mirrored faces and add their features (one submit: a 2·batch forward). */
  flip: boolean;
  /** Parameters to upload (a loaded model), unless `shareParams` is given. */
  state?: ReadonlyMap<string, ArrayLike<number>>;
  /** Read the parameters of this (training) model in place: validation sees the current weights. */
  shareParams?: Model;
}

export class Embedder {
  readonly #host: Float32Array;

  private constructor(
    readonly gpu: Gpu,
    readonly model: Model,
    /** Faces per submit (may be below the requested batch, see EmbedderOptions.batch). */
    readonly batch: number,
    readonly flip: boolean,
  ) {
    this.#host = new Float32Array(model.input.size);
  }

  static async create(gpu: Gpu, config: ModelConfig, opts: EmbedderOptions): Promise<Embedder> {
    if (!(Number.isInteger(opts.batch) && opts.batch >= 1)) {
      throw new Error(`embedder: batch must be a positive integer, got ${opts.batch}`);
    }
    let batch = opts.batch;
    for (;;) {
      try {
        const model = await buildModel(gpu, config, {
          batch: opts.flip ? 2 * batch : batch,
          training: false,
          shareParams: opts.shareParams,
        });
        if (!opts.shareParams) {
          if (!opts.state) throw new Error("embedder: give the model's state or a model to share");
          model.loadState(opts.state);
        }
        return new Embedder(gpu, model, batch, opts.flip);
      } catch (err) {
        if (!(err as Error).message.includes("binding limit") || batch === 1) throw err;
        batch = Math.ceil(batch / 2);
      }
    }
  }

  get dim(): number {
    return this.model.config.embedding_dim;
  }

  get inputSize(): number {
    return this.model.config.input_size;
  }

  /**
   * Queues `count` ≤ batch faces packed in `pixels` and resolves to their count×D features
   * (the flip-sum when flipping). Everything is queued before this returns, so the caller
   * can prepare the next batch while the device works; submits run in call order.
   */
  submit(pixels: Uint8Array, count: number): Promise<Float32Array> {
    const S = this.inputSize, stride = S * S * 3, D = this.dim;
    if (!(Number.isInteger(count) && count >= 1 && count <= this.batch)) {
      throw new Error(`embedder: ${count} faces for a batch of ${this.batch}`);
    }
    if (pixels.length < count * stride) {
      throw new Error(
        `embedder: ${pixels.length} bytes hold fewer than ${count} faces of ${S}×${S}`,
      );
    }
    const norm = this.model.config.normalisation;
    for (let i = 0; i < count; i++) {
      const face = pixels.subarray(i * stride, (i + 1) * stride);
      faceToInput(face, S, norm, this.#host, i);
      if (this.flip) faceToInput(face, S, norm, this.#host, this.batch + i, true);
    }
    // Rows past `count` keep stale faces: inference rows are independent, and they are not read.
    this.gpu.write(this.model.input, this.#host);
    this.gpu.run(this.model.forward);
    const e = this.model.embedding;
    const rows = (first: number) => new Tensor(e.buffer, [count, D], e.offset + first * D * 4);
    const reading = this.flip ? this.gpu.read(rows(0), rows(this.batch)) : this.gpu.read(rows(0));
    return reading.then(([a, b]) => {
      if (b) { for (let k = 0; k < a.length; k++) a[k] = Math.fround(a[k] + b[k]); }
      return a;
    });
  }

  /** Frees the device buffers of the inference graph (not shared parameters). */
  destroy(): void {
    this.model.destroy();
  }
}

/**
 * L2-normalises count×D features in float64 (as sklearn's normalize, which insightface's
 * evaluation calls): the unit rows and the lengths before normalisation. A zero row stays zero.
 */
export function normaliseRows(
  feats: Float32Array,
  count: number,
  D: number,
): { embedding: Float32Array; norm: Float32Array } {
  const embedding = new Float32Array(count * D), norm = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let sq = 0;
    for (let d = 0; d < D; d++) sq += feats[i * D + d] * feats[i * D + d];
    const n = Math.sqrt(sq);
    norm[i] = n;
    if (n > 0) { for (let d = 0; d < D; d++) embedding[i * D + d] = feats[i * D + d] / n; }
  }
  return { embedding, norm };
}
