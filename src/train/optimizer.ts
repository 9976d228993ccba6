// The GPU SGD step (PyTorch semantics, as src/ref/sgd.ts): per parameter group a
// sum-of-squares pass, one final pass that takes the global gradient norm, the clipping
// scale and the non-finite verdict, then one update pass per group. Everything per step
// (learning rate, step number) comes from a small control buffer written before submit,
// and nothing is read back unless the trainer asks (`readStatus`, e.g. when logging).
//
//   const sgd = await buildSgd(gpu, [...arenaGroups("backbone", model.params, model.grads),
//     ...head.paramGroups()], { momentum: 0.9, weightDecay: 5e-4, clipNorm: null, loss: head.stats });
//   each step: sgd.setStep(step, lr); gpu.run([...forward, ...backward, ...sgd.dispatches]);
//   when logging: const st = await sgd.readStatus(); if (st.firstBadStep !== null) stop(...)
import { type Dispatch, type Gpu, params, type Tensor } from "../gpu/device.ts";
import { elementwiseGrid, placeholder, vectorWidth } from "../gpu/ops/grid.ts";

export interface SgdGroup {
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

export interface SgdOptions {
  /** μ (arcface_torch: 0.9). */
  momentum: number;
  /** L2 weight decay on the decaying elements (arcface_torch: 5e-4). */
  weightDecay: number;
  /** Clip the clipped groups' gradient norm to this (torch clip_grad_norm_), or null. */
  clipNorm: number | null;
  /** A tensor whose element 0 is the step's loss (the head's stats); a non-finite loss skips the step. */
  loss?: Tensor;
}

export interface SgdStatus {
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

export interface Sgd {
  /** Partial norms, final pass, updates: append after the backward, every step. */
  dispatches: Dispatch[];
  /** The momentum buffers v, one per group, in group order (zero at start; save them in checkpoints). */
  velocity: Tensor[];
  groups: readonly SgdGroup[];
  /** Queues the control words (learning rate and step number) for the next submit. */
  setStep(step: number, lr: number): void;
  /** One queue round trip. */
  readStatus(): Promise<SgdStatus>;
  /** Clears the sticky bad-step record and the skip counter (e.g. after a resume). */
  resetStatus(): void;
}

const NONE = 0xffffffff;
/** Items (vec4s or floats) per partial sum of the norm pass (PIECE in the kernel). */
const PIECE = 32;

export async function buildSgd(gpu: Gpu, groups: readonly SgdGroup[], o: SgdOptions): Promise<Sgd> {
  if (groups.length === 0) throw new Error("sgd: no parameter groups");
  if (!(o.momentum >= 0 && o.momentum < 1)) {
    throw new Error(`sgd: momentum must be in [0, 1), got ${o.momentum}`);
  }
  if (!(o.weightDecay >= 0)) throw new Error(`sgd: weight decay must be ≥ 0, got ${o.weightDecay}`);
  if (o.clipNorm !== null && !(o.clipNorm > 0)) {
    throw new Error(`sgd: clip norm must be positive, got ${o.clipNorm}`);
  }
  const control = gpu.tensor([4], "sgd.control");
  const status = gpu.tensor([8], "sgd.status");
  const initialStatus = () => new Uint32Array([0, 0, 0, 0, NONE, 0, 0, 0]);
  gpu.write(status, initialStatus());

  const shapes = groups.map((g) => {
    if (g.grad.size !== g.param.size) {
      throw new Error(
        `sgd: group ${g.name}: gradient has ${g.grad.size} elements, parameters ${g.param.size}`,
      );
    }
    const v = vectorWidth(g.param.size);
    return { ...v, pieces: Math.ceil(v.items / PIECE) };
  });
  const slots = shapes.reduce((a, s) => a + s.pieces, 0);
  const partial = gpu.tensor([slots, 2], "sgd.partial");
  const velocity = groups.map((g) => gpu.tensor([g.param.size], `sgd.velocity.${g.name}`));

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
    const maskT = gpu.tensor([mask.length], `sgd.decay.${g.name}`, mask);
    const { groups: grid, gx } = elementwiseGrid(gpu, s.items);
    updates.push(
      await gpu.dispatch("sgd_update", {
        label: `sgd_update.${g.name}`,
        uniforms: params([
          ["u32", s.items],
          ["u32", gx],
          ["u32", clip && o.clipNorm !== null ? 1 : 0],
          ["f32", o.momentum],
          ["f32", o.weightDecay],
        ]),
        tensors: [g.grad, g.param, velocity[i], maskT, control, status],
        groups: grid,
        entry: s.entry,
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
    velocity,
    groups,
    setStep(step: number, lr: number) {
      if (!(Number.isInteger(step) && step >= 0 && step < NONE)) {
        throw new Error(`sgd: step ${step} out of range`);
      }
      const words = new Uint32Array(4);
      new Float32Array(words.buffer)[0] = lr;
      words[1] = step;
      gpu.write(control, words);
    },
    async readStatus(): Promise<SgdStatus> {
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
export function decayMask(g: SgdGroup): Uint32Array {
  const n = g.param.size;
  const mask = new Uint32Array(Math.max(1, Math.ceil(n / 32)));
  const ranges = g.decay === true ? [{ offset: 0, size: n }] : g.decay === false ? [] : g.decay;
  for (const r of ranges) {
    if (
      !(Number.isInteger(r.offset) && Number.isInteger(r.size) && r.offset >= 0 && r.size >= 0 &&
        r.offset + r.size <= n)
    ) {
      throw new Error(
        `sgd: group ${g.name}: decay range ${r.offset}+${r.size} lies outside its ${n} elements`,
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
): SgdGroup[] {
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
