// One training step on the GPU as one submit: the batch upload (input and labels), the
// backbone forward, the head (loss, statistics, dL/d(embedding), class-weight gradient),
// the backbone backward and the optimizer update of backbone and head — all dispatches
// built once and encoded together. With `grad_accum` A > 1 the batch runs as A micro-batches,
// one submit each, their gradients averaged (accumulate.ts) before the update that ends the
// last. The host side prepares the next batch into the same arrays while the device runs
// the current step (writeBuffer copies at call time), so nothing is allocated per step.
import type { Dispatch, Gpu, Tensor } from "../gpu/device.ts";
import {
  buildHead,
  frameHeadWeights,
  type HeadGraph,
  type HeadStats,
  initHeadWeights,
} from "../gpu/ops/head.ts";
import { buildModel, initParams, type Model } from "../model/mod.ts";
import type { ModelConfig } from "../model/model_file.ts";
import type { InputFacts, TrainingState } from "./checkpoint.ts";
import type { TrainConfig } from "./config.ts";
import { EpochOrder, type FaceSet, fillBatch } from "./dataset.ts";
import { type Head, HEADS } from "./heads.ts";
import { arenaGroups, buildOptimizer, type Optimizer } from "./optimizer.ts";
import { type Accumulation, buildAccumulation } from "./accumulate.ts";
import { learningRate } from "./schedule.ts";

export interface TrainerOptions {
  config: TrainConfig;
  model: ModelConfig;
  head: Head;
  data: FaceSet;
  /** Planned run length in steps: the schedule depends on it, not on where a run stops. */
  totalSteps: number;
}

/**
 * Rows of the class-weight matrix: the classes, or for a fixed frame with fewer classes than
 * dimensions, D: the frame is completed to an orthonormal basis whose last D − K rows belong to
 * no sample. Their non-target terms make Σ_j cos²θ_ij = 1 for every feature, so P2SGrad's
 * non-target gradient cancels as on a tight frame; without them the features drift into the
 * D − K directions no class weight reaches (README, Results).
 */
export function headRows(c: TrainConfig, classes: number, D: number): number {
  return c.class_weights === "fixed" ? Math.max(classes, D) : classes;
}

export class Trainer {
  readonly order: EpochOrder;
  readonly #host: Float32Array;
  readonly #labels: Uint32Array;
  readonly #scratch: Uint8Array;
  /** The dispatches of micro-batch k (one entry without accumulation). */
  readonly #parts: Dispatch[][];
  /** Micro-batch k's views of the host input and labels. */
  readonly #slices: { input: Float32Array; labels: Uint32Array }[];
  #prepared = -1;

  private constructor(
    readonly gpu: Gpu,
    readonly opts: TrainerOptions,
    readonly model: Model,
    readonly head: HeadGraph,
    readonly optimizer: Optimizer,
    readonly labels: Tensor,
    readonly accumulation: Accumulation | null,
  ) {
    const c = opts.config;
    this.order = new EpochOrder(c.seed, opts.data.rows, c.batch);
    this.#host = new Float32Array(model.input.size * c.grad_accum);
    this.#labels = new Uint32Array(c.batch);
    this.#scratch = new Uint8Array(opts.data.size * opts.data.size * 3);
    const inSize = model.input.size, n = labels.size;
    this.#slices = Array.from({ length: c.grad_accum }, (_, k) => ({
      input: this.#host.subarray(k * inSize, (k + 1) * inSize),
      labels: this.#labels.subarray(k * n, (k + 1) * n),
    }));
    this.#parts = Array.from({ length: c.grad_accum }, (_, k) => [
      ...model.forward,
      ...head.forward,
      ...head.backward,
      ...model.backward,
      ...(accumulation?.after(k) ?? []),
      ...(k === c.grad_accum - 1 ? optimizer.dispatches : []),
    ]);
  }

  static async create(gpu: Gpu, opts: TrainerOptions): Promise<Trainer> {
    const { config: c, data } = opts;
    const micro = c.batch / c.grad_accum;
    const model = await buildModel(gpu, opts.model, {
      batch: micro,
      training: true,
      seed: c.seed,
    });
    const labels = gpu.tensor([micro], "train.labels");
    const head = await buildHead(
      gpu,
      opts.head,
      { features: model.embedding, labels, dFeatures: model.dEmbedding! },
      {
        N: micro,
        D: opts.model.embedding_dim,
        K: headRows(c, data.classes, opts.model.embedding_dim),
        fixedWeights: c.class_weights === "fixed",
      },
    );
    const groups = [...arenaGroups("backbone", model.params, model.grads!), ...head.paramGroups()];
    const accumulation = c.grad_accum > 1
      ? await buildAccumulation(gpu, groups, head.stats, c.grad_accum)
      : null;
    const optimizer = await buildOptimizer(
      gpu,
      accumulation?.groups ?? groups,
      {
        kind: c.optimizer,
        momentum: c.momentum,
        weightDecay: c.weight_decay,
        clipNorm: c.clip_grad,
        loss: accumulation?.stats ?? head.stats,
      },
    );
    return new Trainer(gpu, opts, model, head, optimizer, labels, accumulation);
  }

  get stepsPerEpoch(): number {
    return this.order.perEpoch;
  }

  /** The learning rate of 0-based step `step`. */
  lr(step: number): number {
    return learningRate(this.opts.config, step, this.opts.totalSteps, this.stepsPerEpoch);
  }

  /** Fresh weights: PyTorch's default init for the backbone; N(0, 0.01²) class weights, or the fixed frame. */
  initialise(): void {
    const c = this.opts.config;
    this.model.loadState(initParams(this.model.net, c.seed));
    const { K, D } = this.head.shape; // K: headRows(), as the head was built
    const bias = HEADS[this.opts.head.name].normalised ? undefined : new Float32Array(K);
    const init = c.class_weights === "fixed" ? frameHeadWeights : initHeadWeights;
    this.head.writeWeights(init(K, D, c.seed), bias);
  }

  /** Puts the device back in the state a checkpoint recorded. */
  restore(s: TrainingState): void {
    this.model.loadState(s.backbone);
    this.head.writeWeights(s.head.weight, s.head.bias);
    const names = this.optimizer.groups.map((g) => g.name);
    const saved = s.optimizerState;
    if (
      saved.length !== names.length ||
      saved.some((v, i) => v.name !== names[i] || v.values.length !== this.optimizer.state[i].size)
    ) {
      throw new Error(
        `checkpoint optimizer state [${
          saved.map((v) => `${v.name}: ${v.values.length}`).join(", ")
        }] does not match this model and optimizer's [${
          names.map((n, i) => `${n}: ${this.optimizer.state[i].size}`).join(", ")
        }]`,
      );
    }
    saved.forEach((v, i) => this.gpu.write(this.optimizer.state[i], v.values));
    this.optimizer.resetStatus();
  }

  /** Draws the batch of 0-based step `step` (or the given rows) into the host arrays (CPU work; no device access). */
  prepare(step: number, indices: Uint32Array = this.order.indices(step)): void {
    const c = this.opts.config;
    fillBatch(
      this.opts.data,
      indices,
      this.#host,
      { flip: c.flip, seed: c.seed, step, norm: this.opts.model.normalisation },
      this.#scratch,
      this.#labels,
    );
    this.#prepared = step;
  }

  /** Uploads the prepared batch of `step` and queues the whole step (one submit per micro-batch). */
  submit(step: number): void {
    if (this.#prepared !== step) this.prepare(step);
    const parts = this.#parts.length;
    for (let k = 0; k < parts; k++) {
      this.gpu.write(this.model.input, this.#slices[k].input);
      this.gpu.write(this.labels, this.#slices[k].labels);
      // Dropout masks: one seed per micro-batch (the plain step number without accumulation).
      this.model.setStep(parts === 1 ? step : step * parts + k);
      if (k === parts - 1) this.optimizer.setStep(step, this.lr(step));
      this.gpu.run(this.#parts[k]);
    }
    this.#prepared = -1;
  }

  /** The head's statistics of the last step (averaged over its micro-batches); one round trip. */
  readStats(): Promise<HeadStats> {
    return this.head.readStats(this.accumulation?.stats);
  }

  /** Reads the whole training state back (a few queue round trips). */
  async snapshot(step: number, input: InputFacts): Promise<TrainingState> {
    const backbone = await this.model.readState();
    const head = await this.head.readWeights();
    const state = await this.gpu.read(...this.optimizer.state);
    return {
      step,
      config: this.opts.config,
      model: this.opts.model,
      input,
      backbone,
      head,
      optimizerState: this.optimizer.groups.map((g, i) => ({ name: g.name, values: state[i] })),
    };
  }

  destroy(): void {
    this.model.destroy();
  }
}
