// Compiles a Network into flat forward and backward dispatch lists over tensors allocated
// once for a batch size: parameters and gradients in chunked arenas, one buffer per
// activation (training keeps them all for the backward pass; inference recycles them),
// and activation gradients from a size-keyed pool released as soon as they are read.
// Residual adds pass gradients through by reference; a gradient with several
// contributions is summed only when its producer reads it.
import { type Dispatch, type Gpu, Tensor } from "../gpu/device.ts";
import type { BnSaved, LayerKit } from "./kit.ts";
import { INPUT, type Layer, type Network } from "./network.ts";
import {
  type ArenaLayout,
  type ArenaRange,
  arenaRanges,
  layoutParams,
  type StateDict,
} from "./params.ts";

/** A chunked arena on the device: flat chunk tensors plus a named view per slot. */
export class GpuArena {
  readonly chunks: Tensor[];
  readonly #views = new Map<string, Tensor>();

  constructor(readonly gpu: Gpu, readonly layout: ArenaLayout, label: string, share?: GpuArena) {
    this.chunks = share
      ? share.chunks
      : layout.chunks.map((n, i) =>
        new Tensor(gpu.buffer(n * 4, `${label}[${i}]`), [n], 0, `${label}[${i}]`)
      );
    for (const s of layout.slots) {
      this.#views.set(
        s.spec.name,
        new Tensor(this.chunks[s.chunk].buffer, s.spec.shape, s.offset * 4, s.spec.name),
      );
    }
  }

  has(name: string): boolean {
    return this.#views.has(name);
  }

  view(name: string): Tensor {
    const t = this.#views.get(name);
    if (!t) throw new Error(`arena: no tensor ${name}`);
    return t;
  }

  /** Optimizer ranges (chunk, element offset, size, decay). */
  get ranges(): ArenaRange[] {
    return arenaRanges(this.layout);
  }

  /** Queues the upload of every slot of `state` it holds (one write per chunk). */
  upload(state: ReadonlyMap<string, ArrayLike<number>>): void {
    const host = this.layout.chunks.map((n) => new Float32Array(n));
    for (const s of this.layout.slots) {
      const v = state.get(s.spec.name);
      if (!v) throw new Error(`upload: state lacks ${s.spec.name}`);
      if (v.length !== s.size) {
        throw new Error(`upload: ${s.spec.name} has ${v.length} values, expected ${s.size}`);
      }
      host[s.chunk].set(v, s.offset);
    }
    host.forEach((h, i) => this.gpu.write(this.chunks[i], h));
  }

  /** Reads every slot back (one queue round trip). */
  async download(): Promise<StateDict> {
    return this.unpack(await this.gpu.read(...this.chunks));
  }

  /** The slots of host copies of the chunks (as `gpu.read(...chunks)` returns them). */
  unpack(host: Float32Array[]): StateDict {
    const out: StateDict = new Map();
    for (const s of this.layout.slots) {
      out.set(s.spec.name, host[s.chunk].slice(s.offset, s.offset + s.size));
    }
    return out;
  }
}

/** One layer's dispatches, kept apart so a benchmark can time kernel kinds. */
export interface ScheduleEntry {
  phase: "forward" | "backward";
  /** Kernel kind: conv2d, batchnorm, prelu, add, dropout, linear, accumulate. */
  kind: string;
  layer: string;
  dispatches: Dispatch[];
}

export interface GraphOptions {
  batch: number;
  training: boolean;
  /** Dropout mask seed (training). */
  seed?: number;
  /** Largest bytes one tensor may bind (default: the device limit). */
  maxBindingBytes?: number;
  /** Reuse another graph's parameter and statistic buffers (e.g. an inference graph beside a training one). */
  shareParams?: CompiledGraph;
}

export interface CompiledGraph {
  net: Network;
  batch: number;
  training: boolean;
  /** Parameters (decaying ones first, frozen ones last) and, in training, their gradients (same layout). */
  params: GpuArena;
  grads: GpuArena | null;
  /** BN running statistics. */
  fixed: GpuArena;
  input: Tensor;
  embedding: Tensor;
  dEmbedding: Tensor | null;
  /** u32 training step read by dropout kernels (write it before each step). */
  step: Tensor;
  forward: Dispatch[];
  backward: Dispatch[];
  schedule: ScheduleEntry[];
  /** Bytes of all device buffers this graph allocated (parameters counted unless shared). */
  allocatedBytes: number;
  /** Frees the device buffers this graph allocated (not shared parameters); it is unusable afterwards. */
  destroy(): void;
  /** Every activation tensor by name (training mode: kept for the backward pass). */
  activations: Map<string, Tensor>;
}

/** Builds the graph of `net` for `opts.batch` images. */
export async function compileGraph(
  gpu: Gpu,
  kit: LayerKit,
  net: Network,
  opts: GraphOptions,
): Promise<CompiledGraph> {
  const N = opts.batch;
  if (!Number.isInteger(N) || N < 1) throw new Error(`model: batch ${N} is not a positive integer`);
  if (opts.training && N < 2) {
    throw new Error("model: training needs a batch of at least 2 (batch-norm statistics)");
  }
  const maxBytes = Math.min(
    opts.maxBindingBytes ?? Infinity,
    gpu.limits.maxStorageBufferBindingSize,
    gpu.limits.maxBufferSize,
  );
  const layouts = layoutParams(net, Math.floor(maxBytes / 4));
  let allocated = 0;
  const owned: GPUBuffer[] = [];
  const alloc = (shape: number[], label: string): Tensor => {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    if (bytes > maxBytes) {
      throw new Error(
        `model ${net.backbone}: ${label} needs ${
          (bytes / 2 ** 20).toFixed(0)
        } MiB at batch ${N}, over the device's ` +
          `${(maxBytes / 2 ** 20).toFixed(0)} MiB binding limit; use a smaller batch or input size`,
      );
    }
    allocated += bytes;
    const t = gpu.tensor(shape, label);
    owned.push(t.buffer);
    return t;
  };
  const share = opts.shareParams;
  if (share) {
    const same = (a: ArenaLayout, b: ArenaLayout) =>
      a.slots.length === b.slots.length &&
      a.slots.every((s, i) =>
        s.spec.name === b.slots[i].spec.name && s.offset === b.slots[i].offset &&
        s.chunk === b.slots[i].chunk
      );
    if (!same(share.params.layout, layouts.params) || !same(share.fixed.layout, layouts.fixed)) {
      throw new Error(
        `model ${net.backbone}: shareParams comes from a different network (${share.net.backbone}, ${share.net.inputSize} px, ${share.net.embeddingDim}-d)`,
      );
    }
  }
  const params = new GpuArena(gpu, layouts.params, `${net.backbone}.params`, share?.params);
  const fixed = new GpuArena(gpu, layouts.fixed, `${net.backbone}.fixed`, share?.fixed);
  if (!share) {
    allocated += 4 *
      (layouts.params.chunks.reduce((a, b) => a + b, 0) +
        layouts.fixed.chunks.reduce((a, b) => a + b, 0));
  }
  const grads = opts.training ? new GpuArena(gpu, layouts.params, `${net.backbone}.grads`) : null;
  if (grads) allocated += 4 * layouts.params.chunks.reduce((a, b) => a + b, 0);
  for (const arena of [share ? null : params, share ? null : fixed, grads]) {
    for (const c of arena?.chunks ?? []) owned.push(c.buffer);
  }
  const paramView = (name: string) => (params.has(name) ? params.view(name) : fixed.view(name));
  const step = gpu.tensor([4], `${net.backbone}.step`);
  owned.push(step.buffer);

  const shapeOf = (name: string) => {
    const s = net.activations.get(name)!;
    return [N, s.C, s.H, s.W];
  };
  const consumers = new Map<string, Layer[]>();
  for (const l of net.layers) {
    for (const x of inputsOf(l)) consumers.set(x, [...(consumers.get(x) ?? []), l]);
  }

  // Activations: every one kept in training; recycled after their last reader in inference.
  const pool = new TensorPool(alloc);
  const acts = new Map<string, Tensor>();
  acts.set(INPUT, alloc(shapeOf(INPUT), INPUT));
  const schedule: ScheduleEntry[] = [];
  const saved = new Map<string, BnSaved>();
  const salts = new Map<Layer, number>();
  for (const l of net.layers) if (l.op === "dropout") salts.set(l, salts.size);

  // Inference dropout is the identity: its output is its input's buffer.
  const canonical = (name: string): string => {
    const l = producers.get(name);
    return !opts.training && l?.op === "dropout" ? canonical(l.x) : name;
  };
  const producers = new Map<string, Layer>(net.layers.map((l) => [l.y, l]));
  const lastReader = new Map<string, Layer>();
  for (const l of net.layers) for (const x of inputsOf(l)) lastReader.set(canonical(x), l);

  for (const l of net.layers) {
    if (!opts.training && l.op === "dropout" && l.y !== net.output) {
      acts.set(l.y, acts.get(l.x)!);
      continue;
    }
    const y = l.y === net.output || opts.training
      ? alloc(shapeOf(l.y), l.y)
      : pool.acquire(shapeOf(l.y), l.y);
    acts.set(l.y, y);
    const x = (name: string) => acts.get(name)!;
    let d: Dispatch[];
    switch (l.op) {
      case "conv2d":
        d = await kit.conv2dForward({ x: x(l.x), w: paramView(`${l.module}.weight`), y }, {
          N,
          ...l.s,
        });
        break;
      case "batchnorm": {
        const t = {
          x: x(l.x),
          gamma: paramView(`${l.module}.weight`),
          beta: paramView(`${l.module}.bias`),
          runningMean: paramView(`${l.module}.running_mean`),
          runningVar: paramView(`${l.module}.running_var`),
          y,
        };
        const s = { N, C: l.C, HW: l.HW, eps: l.eps, momentum: l.momentum };
        if (opts.training) {
          const st = {
            mean: alloc([l.C], `${l.module}.mean`),
            invstd: alloc([l.C], `${l.module}.invstd`),
          };
          saved.set(l.module, st);
          d = await kit.batchnormTrain({ ...t, ...st }, s);
        } else {
          d = await kit.batchnormInference(t, s);
        }
        break;
      }
      case "prelu":
        d = await kit.preluForward({ x: x(l.x), slope: paramView(`${l.module}.weight`), y }, {
          N,
          C: l.C,
          HW: l.HW,
        });
        break;
      case "add":
        d = await kit.add({ a: x(l.a), b: x(l.b), y });
        break;
      case "dropout":
        d = await kit.dropoutForward({ x: x(l.x), y, step }, {
          p: l.p,
          seed: opts.seed ?? 0,
          salt: salts.get(l)!,
        });
        break;
      case "linear":
        d = await kit.linearForward(
          {
            x: flat(x(l.x), N),
            w: paramView(`${l.module}.weight`),
            b: l.bias ? paramView(`${l.module}.bias`) : null,
            y: flat(y, N),
          },
          { N, I: l.inFeatures, O: l.outFeatures },
        );
        break;
    }
    schedule.push({
      phase: "forward",
      kind: l.op,
      layer: "module" in l ? l.module : l.y,
      dispatches: d,
    });
    if (!opts.training) {
      for (const name of new Set(inputsOf(l).map(canonical))) {
        if (lastReader.get(name) === l && name !== INPUT) pool.release(acts.get(name)!);
      }
    }
  }

  let dEmbedding: Tensor | null = null;
  if (opts.training) {
    dEmbedding = alloc(shapeOf(net.output), `d${net.output}`);
    await compileBackward();
  }

  async function compileBackward() {
    const gpool = new TensorPool(alloc);
    // Contributions to each activation's gradient: buffers written for it ("owned") or
    // passed through by a residual add (shared with other gradients).
    const contrib = new Map<string, { t: Tensor; owned: boolean }[]>();
    const refs = new Map<Tensor, number>();
    const hold = (t: Tensor) => refs.set(t, (refs.get(t) ?? 0) + 1);
    const drop = (t: Tensor) => {
      const n = (refs.get(t) ?? 0) - 1;
      refs.set(t, n);
      if (n === 0 && t !== dEmbedding) gpool.release(t);
    };
    const needsGrad = (name: string) => name !== INPUT;
    const addContribution = (name: string, t: Tensor, owned: boolean) => {
      hold(t);
      contrib.set(name, [...(contrib.get(name) ?? []), { t, owned }]);
    };
    /** A fresh buffer for `name`'s gradient, or the owned one to accumulate into. */
    const target = (name: string): { t: Tensor; accumulate: boolean } => {
      const own = (contrib.get(name) ?? []).find((c) => c.owned && refs.get(c.t) === 1);
      if (own) return { t: own.t, accumulate: true };
      const t = gpool.acquire(shapeOf(name), `d${name}`);
      addContribution(name, t, true);
      return { t, accumulate: false };
    };
    /** Sums the contributions of `name` into one tensor (its producer is about to read it). */
    const materialize = async (name: string, entry: ScheduleEntry): Promise<Tensor> => {
      const list = contrib.get(name);
      if (!list || list.length === 0) throw new Error(`model: no gradient reaches ${name}`);
      if (list.length === 1) return list[0].t;
      let acc = list.find((c) => c.owned && refs.get(c.t) === 1)?.t;
      let rest = list.map((c) => c.t);
      if (acc) {
        rest = rest.filter((t) => t !== acc);
      } else {
        acc = gpool.acquire(shapeOf(name), `d${name}`);
        hold(acc);
        entry.dispatches.push(...await kit.add({ a: rest[0], b: rest[1], y: acc }));
        rest = rest.slice(2);
        for (const c of list.slice(0, 2)) drop(c.t);
      }
      for (const t of rest) {
        entry.dispatches.push(...await kit.accumulate({ y: acc, x: t }));
        drop(t);
      }
      contrib.set(name, [{ t: acc, owned: true }]);
      return acc;
    };
    addContribution(net.output, dEmbedding!, false);
    const frozen = new Set(net.params.filter((p) => !p.trainable && !p.buffer).map((p) => p.name));

    for (let li = net.layers.length - 1; li >= 0; li--) {
      const l = net.layers[li];
      const entry: ScheduleEntry = {
        phase: "backward",
        kind: l.op,
        layer: "module" in l ? l.module : l.y,
        dispatches: [],
      };
      const sumEntry: ScheduleEntry = {
        phase: "backward",
        kind: "accumulate",
        layer: l.y,
        dispatches: [],
      };
      const dy = await materialize(l.y, sumEntry);
      if (sumEntry.dispatches.length > 0) schedule.push(sumEntry);
      const x = (name: string) => acts.get(name)!;
      // Frozen weights get their gradient in a scratch tensor; their arena slot stays zero.
      const grad = (name: string) =>
        frozen.has(name)
          ? alloc(paramView(name).shape as number[], `d${name}.frozen`)
          : grads!.view(name);
      const d = entry.dispatches;
      switch (l.op) {
        case "conv2d": {
          const s = { N, ...l.s };
          d.push(
            ...await kit.conv2dBackwardWeight({ dy, x: x(l.x), dw: grad(`${l.module}.weight`) }, s),
          );
          if (needsGrad(l.x)) {
            const tg = target(l.x);
            d.push(
              ...await kit.conv2dBackwardInput(
                { dy, w: paramView(`${l.module}.weight`), dx: tg.t },
                s,
                tg.accumulate,
              ),
            );
          }
          break;
        }
        case "batchnorm": {
          const tg = gpool.acquire(shapeOf(l.x), `d${l.x}`);
          d.push(
            ...await kit.batchnormBackward({
              dy,
              x: x(l.x),
              gamma: paramView(`${l.module}.weight`),
              ...saved.get(l.module)!,
              dx: tg,
              dgamma: grad(`${l.module}.weight`),
              dbeta: grad(`${l.module}.bias`),
            }, { N, C: l.C, HW: l.HW, eps: l.eps, momentum: l.momentum }),
          );
          addContribution(l.x, tg, true);
          break;
        }
        case "prelu": {
          const tg = gpool.acquire(shapeOf(l.x), `d${l.x}`);
          d.push(
            ...await kit.preluBackward(
              {
                dy,
                x: x(l.x),
                slope: paramView(`${l.module}.weight`),
                dx: tg,
                dslope: grad(`${l.module}.weight`),
              },
              { N, C: l.C, HW: l.HW },
            ),
          );
          addContribution(l.x, tg, true);
          break;
        }
        case "add":
          // Pass-through: both inputs receive dy itself, shared until they are summed or read.
          if (needsGrad(l.a)) addContribution(l.a, dy, false);
          if (needsGrad(l.b)) addContribution(l.b, dy, false);
          break;
        case "dropout": {
          const tg = gpool.acquire(shapeOf(l.x), `d${l.x}`);
          d.push(
            ...await kit.dropoutBackward({ dy, dx: tg, step }, {
              p: l.p,
              seed: opts.seed ?? 0,
              salt: salts.get(l)!,
            }),
          );
          addContribution(l.x, tg, true);
          break;
        }
        case "linear": {
          const tg = needsGrad(l.x) ? gpool.acquire(shapeOf(l.x), `d${l.x}`) : null;
          d.push(
            ...await kit.linearBackward({
              dy: flat(dy, N),
              x: flat(x(l.x), N),
              w: paramView(`${l.module}.weight`),
              dx: tg ? flat(tg, N) : null,
              dw: grad(`${l.module}.weight`),
              db: l.bias ? grad(`${l.module}.bias`) : null,
            }, { N, I: l.inFeatures, O: l.outFeatures }),
          );
          if (tg) addContribution(l.x, tg, true);
          break;
        }
      }
      // dy has been read by its producer: its buffer can be reused once nothing else shares it.
      for (const c of contrib.get(l.y) ?? []) drop(c.t);
      contrib.delete(l.y);
      schedule.push(entry);
    }
  }

  const forward = schedule.filter((e) => e.phase === "forward").flatMap((e) => e.dispatches);
  const backward = schedule.filter((e) => e.phase === "backward").flatMap((e) => e.dispatches);
  return {
    net,
    batch: N,
    training: opts.training,
    params,
    grads,
    fixed,
    input: acts.get(INPUT)!,
    embedding: flat(acts.get(net.output)!, N),
    dEmbedding: dEmbedding ? flat(dEmbedding, N) : null,
    step,
    forward,
    backward,
    schedule,
    allocatedBytes: allocated,
    destroy: () => owned.forEach((b) => b.destroy()),
    activations: acts,
  };
}

function inputsOf(l: Layer): string[] {
  return l.op === "add" ? [l.a, l.b] : [l.x];
}

/** The same memory seen as [N, rest]. */
function flat(t: Tensor, N: number): Tensor {
  return new Tensor(t.buffer, [N, t.size / N], t.offset, t.label);
}

/** Buffers recycled by exact size (sizes repeat across blocks of a stage). */
class TensorPool {
  readonly #free = new Map<number, Tensor[]>();
  constructor(readonly alloc: (shape: number[], label: string) => Tensor) {}
  acquire(shape: number[], label: string): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = this.#free.get(n)?.pop();
    return t ? new Tensor(t.buffer, shape, t.offset, label) : this.alloc(shape, label);
  }
  release(t: Tensor): void {
    const list = this.#free.get(t.size) ?? [];
    if (!list.some((u) => u.buffer === t.buffer)) list.push(t);
    this.#free.set(t.size, list);
  }
}
