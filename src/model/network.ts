// The network description every backbone compiles to: a flat list of layers over named
// activations, and the parameters they use under PyTorch state-dict names. The GPU graph
// (graph.ts) and the CPU reference (reference.ts) both interpret this one description,
// so they cannot disagree about the architecture.

/** Per-sample activation shape (NCHW without N; a flat vector is C×1×1). */
export interface ActShape {
  C: number;
  H: number;
  W: number;
}

/** What a parameter is, which decides its init, weight decay and whether it trains. */
export type ParamRole =
  | "conv_weight"
  | "linear_weight"
  | "linear_bias"
  | "bn_weight"
  | "bn_bias"
  | "prelu_slope"
  | "running_mean"
  | "running_var";

export interface ParamSpec {
  /** PyTorch state-dict key, e.g. `layer1.0.conv1.weight`. */
  name: string;
  shape: number[];
  role: ParamRole;
  /** Running statistics are buffers in PyTorch: saved, never trained, not counted as parameters. */
  buffer: boolean;
  /** Receives a gradient and an optimizer update (false for buffers and frozen weights). */
  trainable: boolean;
  /** Weight decay applies (conv and linear weights only, as arcface_torch does). */
  decay: boolean;
  /** PyTorch's default init: U(−bound, bound) (kaiming-uniform with a=√5 gives 1/√fan_in), or a constant. */
  init: { uniform: number } | { constant: number };
}

export interface Conv2dLayer {
  op: "conv2d";
  /** Module path (`layer1.0.conv1`); the weight is `${module}.weight`. */
  module: string;
  x: string;
  y: string;
  s: {
    Cin: number;
    H: number;
    W: number;
    Cout: number;
    kh: number;
    kw: number;
    stride: number;
    pad: number;
    groups: number;
  };
}

export interface BatchNormLayer {
  op: "batchnorm";
  module: string;
  x: string;
  y: string;
  C: number;
  /** H·W per channel (1 for BatchNorm1d over features). */
  HW: number;
  eps: number;
  momentum: number;
}

export interface PReluLayer {
  op: "prelu";
  module: string;
  x: string;
  y: string;
  C: number;
  HW: number;
}

export interface AddLayer {
  op: "add";
  a: string;
  b: string;
  y: string;
}

export interface DropoutLayer {
  op: "dropout";
  x: string;
  y: string;
  p: number;
}

/** y = x Wᵀ (+ b) over the flattened input. */
export interface LinearLayer {
  op: "linear";
  module: string;
  x: string;
  y: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
}

export type Layer =
  | Conv2dLayer
  | BatchNormLayer
  | PReluLayer
  | AddLayer
  | DropoutLayer
  | LinearLayer;

/** A whole backbone, ready to be built on the GPU or run by the CPU reference. */
export interface Network {
  backbone: string;
  inputSize: number;
  embeddingDim: number;
  /** Activation names in creation order with their per-sample shapes; `input` first. */
  activations: Map<string, ActShape>;
  params: ParamSpec[];
  layers: Layer[];
  /** Name of the embedding activation (the network's output, D×1×1). */
  output: string;
}

export const INPUT = "input";

export function actSize(s: ActShape): number {
  return s.C * s.H * s.W;
}

/** Output side of a convolution or pooling window. */
export function convOut(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/**
 * Builds a Network layer by layer, tracking shapes and naming parameters as PyTorch
 * modules do. Each method takes the input activation name and returns the output's.
 */
export class NetworkBuilder {
  readonly activations = new Map<string, ActShape>();
  readonly params: ParamSpec[] = [];
  readonly layers: Layer[] = [];

  constructor(
    readonly backbone: string,
    readonly inputSize: number,
    readonly embeddingDim: number,
  ) {
    this.activations.set(INPUT, { C: 3, H: inputSize, W: inputSize });
  }

  shape(name: string): ActShape {
    const s = this.activations.get(name);
    if (!s) throw new Error(`${this.backbone}: no activation '${name}'`);
    return s;
  }

  conv(
    module: string,
    x: string,
    Cout: number,
    k: number,
    opts: { stride?: number; pad?: number; groups?: number } = {},
  ): string {
    const { C: Cin, H, W } = this.shape(x);
    const stride = opts.stride ?? 1, pad = opts.pad ?? 0, groups = opts.groups ?? 1;
    if (Cin % groups !== 0 || Cout % groups !== 0) {
      throw new Error(
        `${this.backbone}: ${module}: channels ${Cin}→${Cout} not divisible by groups ${groups}`,
      );
    }
    const OH = convOut(H, k, stride, pad), OW = convOut(W, k, stride, pad);
    if (OH < 1 || OW < 1) {
      throw new Error(
        `${this.backbone}: ${module}: a ${k}×${k} window does not fit a ${H}×${W} input (input size ${this.inputSize} too small)`,
      );
    }
    const fanIn = (Cin / groups) * k * k;
    this.#param(`${module}.weight`, [Cout, Cin / groups, k, k], "conv_weight", {
      uniform: 1 / Math.sqrt(fanIn),
    });
    const y = this.#act(module, { C: Cout, H: OH, W: OW });
    this.layers.push({
      op: "conv2d",
      module,
      x,
      y,
      s: { Cin, H, W, Cout, kh: k, kw: k, stride, pad, groups },
    });
    return y;
  }

  /** BatchNorm2d, or BatchNorm1d on a flat input (H = W = 1); `frozenWeight` as iresnet's `features`. */
  batchnorm(
    module: string,
    x: string,
    opts: { eps?: number; frozenWeight?: boolean } = {},
  ): string {
    const s = this.shape(x);
    this.#param(`${module}.weight`, [s.C], "bn_weight", { constant: 1 }, !opts.frozenWeight);
    this.#param(`${module}.bias`, [s.C], "bn_bias", { constant: 0 });
    this.#param(`${module}.running_mean`, [s.C], "running_mean", { constant: 0 });
    this.#param(`${module}.running_var`, [s.C], "running_var", { constant: 1 });
    const y = this.#act(module, { ...s });
    this.layers.push({
      op: "batchnorm",
      module,
      x,
      y,
      C: s.C,
      HW: s.H * s.W,
      eps: opts.eps ?? 1e-5,
      momentum: 0.1,
    });
    return y;
  }

  prelu(module: string, x: string): string {
    const s = this.shape(x);
    this.#param(`${module}.weight`, [s.C], "prelu_slope", { constant: 0.25 });
    const y = this.#act(module, { ...s });
    this.layers.push({ op: "prelu", module, x, y, C: s.C, HW: s.H * s.W });
    return y;
  }

  add(name: string, a: string, b: string): string {
    const sa = this.shape(a), sb = this.shape(b);
    if (sa.C !== sb.C || sa.H !== sb.H || sa.W !== sb.W) {
      throw new Error(`${this.backbone}: ${name}: cannot add ${fmt(sa)} and ${fmt(sb)}`);
    }
    const y = this.#act(name, { ...sa });
    this.layers.push({ op: "add", a, b, y });
    return y;
  }

  /** Dropout with probability p; p = 0 adds nothing (insightface's default). */
  dropout(name: string, x: string, p: number): string {
    if (p <= 0) return x;
    const y = this.#act(name, { ...this.shape(x) });
    this.layers.push({ op: "dropout", x, y, p });
    return y;
  }

  /** nn.Linear over the flattened input (torch.flatten(x, 1) of NCHW is the same memory). */
  linear(module: string, x: string, outFeatures: number, bias: boolean): string {
    const inFeatures = actSize(this.shape(x));
    const bound = 1 / Math.sqrt(inFeatures);
    this.#param(`${module}.weight`, [outFeatures, inFeatures], "linear_weight", { uniform: bound });
    if (bias) this.#param(`${module}.bias`, [outFeatures], "linear_bias", { uniform: bound });
    const y = this.#act(module, { C: outFeatures, H: 1, W: 1 });
    this.layers.push({ op: "linear", module, x, y, inFeatures, outFeatures, bias });
    return y;
  }

  finish(output: string): Network {
    const s = this.shape(output);
    if (s.C !== this.embeddingDim || s.H !== 1 || s.W !== 1) {
      throw new Error(
        `${this.backbone}: output ${output} is ${fmt(s)}, expected ${this.embeddingDim}×1×1`,
      );
    }
    return {
      backbone: this.backbone,
      inputSize: this.inputSize,
      embeddingDim: this.embeddingDim,
      activations: this.activations,
      params: this.params,
      layers: this.layers,
      output,
    };
  }

  #act(name: string, s: ActShape): string {
    if (this.activations.has(name)) {
      throw new Error(`${this.backbone}: activation '${name}' defined twice`);
    }
    this.activations.set(name, s);
    return name;
  }

  #param(
    name: string,
    shape: number[],
    role: ParamRole,
    init: ParamSpec["init"],
    trainable = true,
  ) {
    const buffer = role === "running_mean" || role === "running_var";
    this.params.push({
      name,
      shape,
      role,
      buffer,
      trainable: trainable && !buffer,
      decay: role === "conv_weight" || role === "linear_weight",
      init,
    });
  }
}

function fmt(s: ActShape): string {
  return `${s.C}×${s.H}×${s.W}`;
}

/** Parameter count as PyTorch's `sum(p.numel() for p in model.parameters())` (buffers excluded). */
export function parameterCount(net: Network): number {
  return net.params.filter((p) => !p.buffer).reduce(
    (a, p) => a + p.shape.reduce((x, y) => x * y, 1),
    0,
  );
}

/** Forward multiply-accumulates per image in convolutions and linear layers. */
export function forwardMacs(net: Network): number {
  let macs = 0;
  for (const l of net.layers) {
    if (l.op === "conv2d") {
      const y = net.activations.get(l.y)!;
      macs += actSize(y) * (l.s.Cin / l.s.groups) * l.s.kh * l.s.kw;
    } else if (l.op === "linear") {
      macs += l.inFeatures * l.outFeatures;
    }
  }
  return macs;
}
