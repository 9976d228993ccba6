// Parameter storage: where each named tensor lives in the flat arenas (256-byte aligned
// views, so the optimizer updates a whole arena in a few dispatches), and PyTorch's
// default initialisation drawn from a counter-based generator (seed, name, index), so the
// same seed gives the same bytes and adding a layer does not shift the others' values.
import { hash32 } from "../util/random.ts";
import type { Network, ParamSpec } from "./network.ts";

/** A state dict: PyTorch key → values, row-major. */
export type StateDict = Map<string, Float32Array>;

/** Elements per 256-byte alignment unit (WebGPU's minStorageBufferOffsetAlignment, conservatively). */
export const ALIGN_ELEMENTS = 64;

export interface Slot {
  spec: ParamSpec;
  /** Which buffer of the arena. */
  chunk: number;
  /** Element offset inside the chunk (a multiple of ALIGN_ELEMENTS). */
  offset: number;
  size: number;
}

/**
 * A set of tensors packed into one or more chunks (buffers) of at most `maxChunkElements`
 * each: several only when a device's binding limit is smaller than the arena (iresnet50's
 * 43.6 M parameters do not fit llvmpipe's 128 MiB binding).
 */
export interface ArenaLayout {
  slots: Slot[];
  byName: Map<string, Slot>;
  /** Elements per chunk (aligned sizes). */
  chunks: number[];
}

/** A contiguous run of one chunk that the optimizer treats alike. */
export interface ArenaRange {
  chunk: number;
  offset: number;
  size: number;
  /** Weight decay applies to this range. */
  decay: boolean;
}

const align = (n: number) => Math.ceil(n / ALIGN_ELEMENTS) * ALIGN_ELEMENTS;
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Packs `specs` in order into chunks; a tensor never straddles two chunks. */
export function layoutArena(specs: readonly ParamSpec[], maxChunkElements: number): ArenaLayout {
  const slots: Slot[] = [];
  const chunks: number[] = [];
  for (const spec of specs) {
    const size = numel(spec.shape);
    if (align(size) > maxChunkElements) {
      throw new Error(
        `parameter ${spec.name} (${size} elements) exceeds the device's largest buffer binding (${maxChunkElements} elements)`,
      );
    }
    if (chunks.length === 0 || chunks[chunks.length - 1] + align(size) > maxChunkElements) {
      chunks.push(0);
    }
    const chunk = chunks.length - 1;
    slots.push({ spec, chunk, offset: chunks[chunk], size });
    chunks[chunk] += align(size);
  }
  return { slots, byName: new Map(slots.map((s) => [s.spec.name, s])), chunks };
}

/**
 * The layouts of a network's storage: `params` holds every parameter (PyTorch's
 * `parameters()`): decaying ones first, then the other trainable ones, then frozen
 * weights (iresnet's `features.weight`), so weight decay covers few ranges; the gradient
 * arena mirrors it, and frozen slots keep a zero gradient, which leaves them unchanged
 * under SGD. `fixed` holds the running statistics (buffers), which a training forward
 * updates in place; keeping them apart from the parameters means no dispatch binds one
 * buffer both read-only and writable.
 */
export function layoutParams(
  net: Network,
  maxChunkElements: number,
): { params: ArenaLayout; fixed: ArenaLayout } {
  const ps = net.params.filter((p) => !p.buffer);
  const ordered = [
    ...ps.filter((p) => p.trainable && p.decay),
    ...ps.filter((p) => p.trainable && !p.decay),
    ...ps.filter((p) => !p.trainable),
  ];
  return {
    params: layoutArena(ordered, maxChunkElements),
    fixed: layoutArena(net.params.filter((p) => p.buffer), maxChunkElements),
  };
}

/** The optimizer's view of an arena: maximal runs of slots with the same decay flag, per chunk. */
export function arenaRanges(layout: ArenaLayout): ArenaRange[] {
  const ranges: ArenaRange[] = [];
  for (const s of layout.slots) {
    const last = ranges[ranges.length - 1];
    const end = s.offset + align(s.size);
    if (
      last && last.chunk === s.chunk && last.decay === s.spec.decay &&
      last.offset + last.size === s.offset
    ) {
      last.size = end - last.offset;
    } else {
      ranges.push({ chunk: s.chunk, offset: s.offset, size: end - s.offset, decay: s.spec.decay });
    }
  }
  return ranges;
}

/** FNV-1a of a parameter name: the stream id of its initial values. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * PyTorch's default initial values: U(−1/√fan_in, 1/√fan_in) for conv and linear weights
 * and linear biases (kaiming-uniform with a = √5, as nn.Conv2d/nn.Linear reset them),
 * BN γ = 1, β = 0, running mean 0 and variance 1, PReLU slopes 0.25.
 */
export function initParams(net: Network, seed: number): StateDict {
  const out: StateDict = new Map();
  for (const p of net.params) {
    const v = new Float32Array(numel(p.shape));
    if ("constant" in p.init) {
      v.fill(p.init.constant);
    } else {
      const bound = p.init.uniform, stream = nameHash(p.name);
      for (let i = 0; i < v.length; i++) {
        v[i] = bound * (2 * (hash32(seed, stream, i) / 4294967296) - 1);
      }
    }
    out.set(p.name, v);
  }
  return out;
}

/**
 * Initial values made non-trivial for tests: BN γ near 1, β, running mean and variance
 * and PReLU slopes drawn around their defaults (PyTorch's init makes several of them
 * constant, which would hide mistakes in how they are used).
 */
export function perturbedParams(net: Network, seed: number): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const init = initParams(net, seed);
  for (const p of net.params) {
    const f = Float64Array.from(init.get(p.name)!);
    const stream = nameHash(p.name) ^ 0x5bd1e995;
    const noise = (i: number) => 2 * (hash32(seed, stream, i) / 4294967296) - 1;
    const set = (center: number, spread: number) =>
      f.forEach((_, i) => (f[i] = center + spread * noise(i)));
    if (p.role === "bn_weight" && p.trainable) set(1, 0.3);
    if (p.role === "bn_bias") set(0, 0.2);
    if (p.role === "running_mean") set(0, 0.1);
    if (p.role === "running_var") set(1, 0.5);
    if (p.role === "prelu_slope") set(0.25, 0.1);
    out.set(p.name, f);
  }
  return out;
}
