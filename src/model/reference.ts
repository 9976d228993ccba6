// The whole network on the CPU in float64, composed from the layer references in
// src/ref/: the ground truth the GPU graph is tested against (forward, backward, running
// statistics). Slow by design: plain loops, meant for the tiny test configurations.
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward } from "../ref/conv2d.ts";
import { batchnormBackward, batchnormForward, batchnormInference } from "../ref/batchnorm.ts";
import { preluBackward, preluForward } from "../ref/prelu.ts";
import { addForward } from "../ref/add.ts";
import { dropoutBackward, dropoutForward } from "../ref/dropout.ts";
import { linearBackward, linearForward } from "../ref/linear.ts";
import { actSize, INPUT, type Layer, type Network } from "./network.ts";

/** Parameters by state-dict name (f32 or f64 values). */
export type ParamValues = ReadonlyMap<string, ArrayLike<number>>;

export interface PassOptions {
  /** Training mode: BN batch statistics (and running-average updates), dropout on. */
  training: boolean;
  /** Dropout mask seed and step (see src/ref/dropout.ts). */
  seed?: number;
  step?: number;
}

export interface ReferenceForward {
  N: number;
  /** Every activation by name, `input` included. */
  acts: Map<string, Float64Array>;
  /** Training-mode BN statistics per module, needed by the backward pass. */
  bnStats: Map<string, { mean: Float64Array; invstd: Float64Array }>;
  /** Running averages after this pass (`<module>.running_mean` / `.running_var`); unchanged in inference. */
  running: Map<string, Float64Array>;
  embedding: Float64Array;
}

/** The salt of each dropout layer: its index among the network's dropout layers. */
export function dropoutSalts(net: Network): Map<Layer, number> {
  const salts = new Map<Layer, number>();
  for (const l of net.layers) if (l.op === "dropout") salts.set(l, salts.size);
  return salts;
}

function param(params: ParamValues, name: string): ArrayLike<number> {
  const v = params.get(name);
  if (!v) throw new Error(`reference: missing parameter ${name}`);
  return v;
}

/** Runs the network forward on a batch of N images (NCHW, 3 × inputSize²). */
export function referenceForward(
  net: Network,
  params: ParamValues,
  input: ArrayLike<number>,
  N: number,
  opts: PassOptions,
): ReferenceForward {
  const inputShape = net.activations.get(INPUT)!;
  if (input.length !== N * actSize(inputShape)) {
    throw new Error(
      `reference: input has ${input.length} values, expected ${N}×${actSize(inputShape)}`,
    );
  }
  const acts = new Map<string, Float64Array>([[INPUT, Float64Array.from(input)]]);
  const bnStats = new Map<string, { mean: Float64Array; invstd: Float64Array }>();
  const running = new Map<string, Float64Array>();
  const salts = dropoutSalts(net);
  const get = (name: string) => acts.get(name)!;
  for (const l of net.layers) {
    switch (l.op) {
      case "conv2d":
        acts.set(l.y, conv2dForward(get(l.x), param(params, `${l.module}.weight`), { N, ...l.s }));
        break;
      case "batchnorm": {
        const s = { N, C: l.C, HW: l.HW, eps: l.eps, momentum: l.momentum };
        const g = param(params, `${l.module}.weight`), b = param(params, `${l.module}.bias`);
        const rm = param(params, `${l.module}.running_mean`),
          rv = param(params, `${l.module}.running_var`);
        if (opts.training) {
          const r = batchnormForward(get(l.x), g, b, rm, rv, s);
          acts.set(l.y, r.y);
          bnStats.set(l.module, { mean: r.mean, invstd: r.invstd });
          running.set(`${l.module}.running_mean`, r.runningMean);
          running.set(`${l.module}.running_var`, r.runningVar);
        } else {
          acts.set(l.y, batchnormInference(get(l.x), g, b, rm, rv, s));
          running.set(`${l.module}.running_mean`, Float64Array.from(rm));
          running.set(`${l.module}.running_var`, Float64Array.from(rv));
        }
        break;
      }
      case "prelu":
        acts.set(
          l.y,
          preluForward(get(l.x), param(params, `${l.module}.weight`), { N, C: l.C, HW: l.HW }),
        );
        break;
      case "add":
        acts.set(l.y, addForward(get(l.a), get(l.b)));
        break;
      case "dropout":
        acts.set(
          l.y,
          opts.training
            ? dropoutForward(get(l.x), opts.step ?? 0, {
              p: l.p,
              seed: opts.seed ?? 0,
              salt: salts.get(l),
            })
            : Float64Array.from(get(l.x)),
        );
        break;
      case "linear": {
        const b = l.bias ? param(params, `${l.module}.bias`) : null;
        acts.set(
          l.y,
          linearForward(get(l.x), param(params, `${l.module}.weight`), b, {
            N,
            I: l.inFeatures,
            O: l.outFeatures,
          }),
        );
        break;
      }
    }
  }
  return { N, acts, bnStats, running, embedding: get(net.output) };
}

/**
 * Back-propagates dL/d(embedding) through a training-mode forward pass: gradients of
 * every trainable parameter (by name) and of the input. Activations used twice (a
 * residual block's input) sum their gradients.
 */
export function referenceBackward(
  net: Network,
  params: ParamValues,
  fwd: ReferenceForward,
  dEmbedding: ArrayLike<number>,
  opts: PassOptions,
): { grads: Map<string, Float64Array>; dInput: Float64Array } {
  const N = fwd.N;
  const trainable = new Set(net.params.filter((p) => p.trainable).map((p) => p.name));
  const grads = new Map<string, Float64Array>();
  const dActs = new Map<string, Float64Array>([[net.output, Float64Array.from(dEmbedding)]]);
  const salts = dropoutSalts(net);
  const act = (name: string) => fwd.acts.get(name)!;
  const accumulate = (name: string, g: Float64Array) => {
    const prev = dActs.get(name);
    if (!prev) {
      dActs.set(name, g);
    } else {
      for (let i = 0; i < g.length; i++) prev[i] += g[i];
    }
  };
  const setGrad = (name: string, g: Float64Array) => {
    if (trainable.has(name)) grads.set(name, g);
  };
  for (let li = net.layers.length - 1; li >= 0; li--) {
    const l = net.layers[li];
    const dy = dActs.get(l.y);
    if (!dy) throw new Error(`reference: no gradient reaches ${l.y}`);
    switch (l.op) {
      case "conv2d": {
        const s = { N, ...l.s };
        const w = param(params, `${l.module}.weight`);
        setGrad(`${l.module}.weight`, conv2dBackwardWeight(dy, act(l.x), s));
        accumulate(l.x, conv2dBackwardInput(dy, w, s));
        break;
      }
      case "batchnorm": {
        const stats = fwd.bnStats.get(l.module);
        if (!stats) {
          throw new Error(`reference: backward of ${l.module} needs a training-mode forward`);
        }
        const s = { N, C: l.C, HW: l.HW, eps: l.eps, momentum: l.momentum };
        const r = batchnormBackward(
          dy,
          act(l.x),
          param(params, `${l.module}.weight`),
          stats.mean,
          stats.invstd,
          s,
        );
        setGrad(`${l.module}.weight`, r.dgamma);
        setGrad(`${l.module}.bias`, r.dbeta);
        accumulate(l.x, r.dx);
        break;
      }
      case "prelu": {
        const r = preluBackward(dy, act(l.x), param(params, `${l.module}.weight`), {
          N,
          C: l.C,
          HW: l.HW,
        });
        setGrad(`${l.module}.weight`, r.dslope);
        accumulate(l.x, r.dx);
        break;
      }
      case "add":
        accumulate(l.a, Float64Array.from(dy));
        accumulate(l.b, Float64Array.from(dy));
        break;
      case "dropout":
        accumulate(
          l.x,
          dropoutBackward(dy, opts.step ?? 0, { p: l.p, seed: opts.seed ?? 0, salt: salts.get(l) }),
        );
        break;
      case "linear": {
        const r = linearBackward(dy, act(l.x), param(params, `${l.module}.weight`), {
          N,
          I: l.inFeatures,
          O: l.outFeatures,
        });
        setGrad(`${l.module}.weight`, r.dw);
        if (l.bias) setGrad(`${l.module}.bias`, r.db);
        accumulate(l.x, r.dx);
        break;
      }
    }
  }
  const dInput = dActs.get(INPUT) ?? new Float64Array(N * actSize(net.activations.get(INPUT)!));
  return { grads, dInput };
}
