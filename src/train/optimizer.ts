// The GPU optimizer step, SGD with momentum (torch.optim.SGD, as src/ref/sgd.ts) or AdamW
// (torch.optim.AdamW, as src/ref/adamw.ts): per parameter group a sum-of-squares pass, one
// final pass that takes the global gradient norm, the clipping scale and the non-finite
// verdict, then one update pass per group. Everything per step (learning rate, step number,
// AdamW's bias corrections) comes from a small control buffer written before submit, and
// nothing is read back unless the trainer asks (`readStatus`, e.g. when logging).
//
//   const opt = await buildOptimizer(gpu, [...arenaGroups("backbone", model.params, model.grads),
//     ...head.paramGroups()], { momentum: 0.9, weightDecay: 5e-4, clipNorm: null, loss: head.stats });
//   each step: opt.setStep(step, lr); gpu.run([...forward, ...backward, ...opt.dispatches]);
//   when logging: const st = await opt.readStatus(); if (st.firstBadStep !== null) stop(...)
import { type Dispatch, type Gpu, params, type Tensor } from "../gpu/device.ts";
import { elementwiseGrid, placeholder, vectorWidth } from "../gpu/ops/grid.ts";
import { dispatchReading } from "../gpu/operands.ts";

export interface ParamGroup {
  /** For error messages and checkpoints (e.g. "backbone[0]", "head.weight[1]"). */
  name: string;
  param: Tensor;
  /** Same size as `param`; read only. */
  grad: Tensor;
  /** Weight decay on every element (true), none (false), or on these element ranges. */
  decay: boolean | readonly { offset: number; size: number }[];
  /** Counted in, and scaled by, gradient clipping (default true; arcface_torch clips only the backbone). */
  clip?: boolean;
}

export type OptimizerKind = "sgd" | "adamw";

export interface OptimizerOptions {
  /** "sgd" (torch.optim.SGD, the default) or "adamw" (torch.optim.AdamW). */
  kind?: OptimizerKind;
  /** SGD's μ (arcface_torch: 0.9); AdamW's β1. */
  momentum: number;
  /** AdamW's β2 and ε (torch's defaults: 0.999, 1e-8). */
  beta2?: number;
  eps?: number;
  /** Weight decay on the decaying elements: SGD's L2 term (arcface_torch: 5e-4), AdamW's decoupled rate. */
  weightDecay: number;
  /** Clip the clipped groups' gradient norm to this (torch clip_grad_norm_), or null. */
  clipNorm: number | null;
  /** A tensor whose element 0 is the step's loss (the head's stats); a non-finite loss skips the step. */
  loss?: Tensor;
}

export interface OptimizerStatus {
  /** ‖g‖ over every group. */
  gradNorm: number;
  /** ‖g‖ over the clipped groups. */
  clipGradNorm: number;
  /** Factor applied to the clipped gradients (1 without clipping or under the threshold). */
  scale: number;
  /** Whether the last step was applied. */
  applied: boolean;
  /** The first step skipped for a non-finite loss or gradient norm (sticky), or null. */
  firstBadStep: number | null;
  /** Steps skipped so far. */
  skipped: number;
  /** The step number of the last update pass. */
  lastStep: number;
}

export interface Optimizer {
  /** Partial norms, final pass, updates: append after the backward, every step. */
  dispatches: Dispatch[];
  /**
   * The optimizer state, one tensor per group in group order (zero at start; save them in
   * checkpoints): SGD's momentum buffer, or AdamW's first moments followed by its second.
   */
  state: Tensor[];
  groups: readonly ParamGroup[];
  /** Queues the control words (learning rate and step number) for the next submit. */
  setStep(step: number, lr: number): void;
  /** One queue round trip. */
  readStatus(): Promise<OptimizerStatus>;
  /** Clears the sticky bad-step record and the skip counter (e.g. after a resume). */
  resetStatus(): void;
}

const NONE = 0xffffffff;
/** Items (vec4s or floats) per partial sum of the norm pass (PIECE in the kernel). */
const PIECE = 32;

export async function buildOptimizer(
  gpu: Gpu,
  groups: readonly ParamGroup[],
  o: OptimizerOptions,
): Promise<Optimizer> {
  if (groups.length === 0) throw new Error("optimizer: no parameter groups");
  if (!(o.momentum >= 0 && o.momentum < 1)) {
    throw new Error(`optimizer: momentum (β1) must be in [0, 1), got ${o.momentum}`);
  }
  const kind = o.kind ?? "sgd";
  const adamw = kind === "adamw";
  const beta2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8;
  if (!(beta2 >= 0 && beta2 < 1 && eps > 0)) {
    throw new Error(`optimizer: AdamW needs β2 in [0, 1) and ε > 0, got ${beta2}, ${eps}`);
  }
  if (!(o.weightDecay >= 0)) {
    throw new Error(`optimizer: weight decay must be ≥ 0, got ${o.weightDecay}`);
  }
  if (o.clipNorm !== null && !(o.clipNorm > 0)) {
    throw new Error(`optimizer: clip norm must be positive, got ${o.clipNorm}`);
  }
  const control = gpu.tensor([4], "optimizer.control");
  const status = gpu.tensor([8], "optimizer.status");
  const initialStatus = () => new Uint32Array([0, 0, 0, 0, NONE, 0, 0, 0]);
  gpu.write(status, initialStatus());

  const shapes = groups.map((g) => {
    if (g.grad.size !== g.param.size) {
      throw new Error(
        `optimizer: group ${g.name}: gradient has ${g.grad.size} elements, parameters ${g.param.size}`,
      );
    }
    const v = vectorWidth(g.param.size);
    return { ...v, pieces: Math.ceil(v.items / PIECE) };
  });
  const slots = shapes.reduce((a, s) => a + s.pieces, 0);
  const partial = gpu.tensor([slots, 2], "optimizer.partial");
  const state = groups.map((g) =>
    gpu.tensor([(adamw ? 2 : 1) * g.param.size], `optimizer.state.${g.name}`)
  );

  const norms: Dispatch[] = [], updates: Dispatch[] = [];
  let slotBase = 0;
  for (const [i, g] of groups.entries()) {
    const s = shapes[i];
    const clip = g.clip ?? true;
    const pieces = elementwiseGrid(gpu, s.pieces);
    norms.push(
      await gpu.dispatch("gradnorm_partial", {
        label: `gradnorm_partial.${g.name}`,
        uniforms: params([["u32", s.items], ["u32", slotBase], ["u32", clip ? 1 : 0], [
          "u32",
          pieces.gx,
        ]]),
        tensors: [g.grad, partial],
        groups: pieces.groups,
        entry: s.entry,
      }),
    );
    slotBase += s.pieces;
    const mask = decayMask(g);
    const maskT = gpu.tensor([mask.length], `optimizer.decay.${g.name}`, mask);
    const { groups: grid, gx } = elementwiseGrid(gpu, s.items);
    updates.push(
      ...await dispatchReading(gpu, "optimizer_update", {
        label: `${kind}_update.${g.name}`,
        uniforms: params([
          ["u32", s.items],
          ["u32", gx],
          ["u32", clip && o.clipNorm !== null ? 1 : 0],
          ["f32", o.momentum],
          ["f32", beta2],
          ["f32", eps],
          ["f32", o.weightDecay],
        ]),
        tensors: [
          { read: g.grad, element: s.entry === "main" ? "vec4" : "f32", names: ["g4", "g1"] },
          g.param,
          state[i],
          maskT,
          control,
          status,
        ],
        groups: grid,
        entry: s.entry === "main" ? kind : `${kind}_scalar`,
      }),
    );
  }
  const final = await gpu.dispatch("gradnorm_final", {
    label: "gradnorm_final",
    uniforms: params([["u32", slots], ["u32", o.clipNorm !== null ? 1 : 0], [
      "f32",
      o.clipNorm ?? 0,
    ]]),
    tensors: [partial, o.loss ?? placeholder(gpu, "read"), control, status],
    groups: [1],
  });

  return {
    dispatches: [...norms, final, ...updates],
    state,
    groups,
    setStep(step: number, lr: number) {
      if (!(Number.isInteger(step) && step >= 0 && step < NONE)) {
        throw new Error(`optimizer: step ${step} out of range`);
      }
      const words = new Uint32Array(4);
      new Float32Array(words.buffer)[0] = lr;
      words[1] = step;
      // AdamW's bias corrections 1 − β^t for the 1-based step t (unused by SGD).
      new Float32Array(words.buffer)[2] = 1 - Math.pow(o.momentum, step + 1);
      new Float32Array(words.buffer)[3] = 1 - Math.pow(beta2, step + 1);
      gpu.write(control, words);
    },
    async readStatus(): Promise<OptimizerStatus> {
      const [f] = await gpu.read(status);
      const u = new Uint32Array(f.buffer);
      return {
        gradNorm: f[0],
        clipGradNorm: f[1],
        scale: f[2],
        applied: u[3] === 1,
        firstBadStep: u[4] === NONE ? null : u[4],
        skipped: u[5],
        lastStep: u[6],
      };
    },
    resetStatus() {
      gpu.write(status, initialStatus());
    },
  };
}

/** One bit per element (bit e & 31 of word e >> 5): 1 where weight decay applies. */
export function decayMask(g: ParamGroup): Uint32Array {
  const n = g.param.size;
  const mask = new Uint32Array(Math.max(1, Math.ceil(n / 32)));
  const ranges = g.decay === true ? [{ offset: 0, size: n }] : g.decay === false ? [] : g.decay;
  for (const r of ranges) {
    if (
      !(Number.isInteger(r.offset) && Number.isInteger(r.size) && r.offset >= 0 && r.size >= 0 &&
        r.offset + r.size <= n)
    ) {
      throw new Error(
        `optimizer: group ${g.name}: decay range ${r.offset}+${r.size} lies outside its ${n} elements`,
      );
    }
    for (let e = r.offset; e < r.offset + r.size; e++) mask[e >>> 5] |= 1 << (e & 31);
  }
  return mask;
}

/**
 * The groups of a chunked parameter arena (src/model: `params.chunks`, `grads.chunks`,
 * `params.ranges` with chunk, offset, size, decay), one group per chunk.
 */
export function arenaGroups(
  name: string,
  arena: {
    chunks: readonly Tensor[];
    ranges: readonly { chunk: number; offset: number; size: number; decay: boolean }[];
  },
  grads: { chunks: readonly Tensor[] },
  clip = true,
): ParamGroup[] {
  return arena.chunks.map((param, c) => ({
    name: `${name}[${c}]`,
    param,
    grad: grads.chunks[c],
    decay: arena.ranges.filter((r) => r.chunk === c && r.decay).map((r) => ({
      offset: r.offset,
      size: r.size,
    })),
    clip,
  }));
}
