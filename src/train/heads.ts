// The classification heads, selectable by name: their hyper-parameters with commented
// defaults, the target/non-target logit f(cos) and its slope f'(cos), and the float64 loss
// with its gradient with respect to cos θ (or the logits, for the plain softmax baseline).
// The WGSL in kernels/head_loss.wgsl implements the same f and f' independently; the
// tests hold the two together. Every cosine head shares one backward (src/gpu/ops/head.ts):
// dL/dcos goes through the direction terms of DESIGN §1.
import { UsageError } from "../cli/errors.ts";

export const HEAD_NAMES = [
  "p2sgrad",
  "normface",
  "cosface",
  "arcface",
  "sphereface",
  "softmax",
] as const;
export type HeadName = typeof HEAD_NAMES[number];

/** A resolved head: every hyper-parameter has its value (unused ones are ignored). */
export interface Head {
  name: HeadName;
  /** Scale s of the cosine logits (normface, cosface, arcface, sphereface). */
  s: number;
  /** Margin m: additive cosine (cosface), additive angle in radians (arcface), integer angle multiplier (sphereface). */
  m: number;
  /** SphereFace only: target logit s·(λ·cos θ + ψ(θ))/(1 + λ); 0 is DESIGN's pure s·ψ(θ). */
  lambda: number;
  /** ArcFace only: back-propagate f' = s instead of the exact s·sin(θ+m)/sin θ. */
  straightThrough: boolean;
}

export interface HeadSpec {
  name: HeadName;
  summary: string;
  /** Cosine head (normalised features and class weights) rather than a biased linear classifier. */
  normalised: boolean;
  /** Softmax cross-entropy over f(cos) (all but p2sgrad). */
  softmax: boolean;
  /** The hyper-parameters this head reads, with defaults and where they come from. */
  defaults: Partial<Record<"s" | "m" | "lambda", { value: number; why: string }>>;
  /** Class weights when `--class-weights` is not given, and why. */
  classWeights: { value: "learned" | "fixed"; why: string };
}

const LEARNED = { value: "learned", why: "as its paper and insightface" } as const;

export const HEADS: Readonly<Record<HeadName, HeadSpec>> = {
  p2sgrad: {
    name: "p2sgrad",
    summary: "P2SGrad (Zhang et al. 2019, Eq. 11): dL/dcos = cos − δ, no scale, no margin",
    normalised: true,
    softmax: false,
    defaults: {},
    classWeights: {
      value: "fixed",
      why:
        "Eq. 11's class-weight gradient drives the weights out of the features' directions on small class counts (README, Results); on a fixed frame its non-target terms cancel",
    },
  },
  normface: {
    name: "normface",
    summary: "NormFace: softmax over s·cos θ",
    normalised: true,
    softmax: true,
    // The NormFace paper learns or fixes s in the tens; insightface trains every normalised head at 64.
    defaults: { s: { value: 64, why: "insightface's scale for all normalised heads" } },
    classWeights: LEARNED,
  },
  cosface: {
    name: "cosface",
    summary: "CosFace / AM-softmax: target logit s·(cos θ − m)",
    normalised: true,
    softmax: true,
    defaults: {
      s: { value: 64, why: "insightface arcface_torch configs (CosFace paper: 64)" },
      m: {
        value: 0.35,
        why: "CosFace paper's best LFW/MegaFace setting (insightface uses 0.4 for some configs)",
      },
    },
    classWeights: LEARNED,
  },
  arcface: {
    name: "arcface",
    summary:
      "ArcFace: target logit s·cos(θ + m); past θ + m > π, s·(cos θ − m·sin m) as insightface",
    normalised: true,
    softmax: true,
    defaults: {
      s: { value: 64, why: "ArcFace paper and insightface arcface_torch" },
      m: { value: 0.5, why: "ArcFace paper and insightface arcface_torch (radians)" },
    },
    classWeights: LEARNED,
  },
  sphereface: {
    name: "sphereface",
    summary:
      "SphereFace / A-softmax on normalised features: target logit s·ψ(θ), ψ = (−1)^k cos(mθ) − 2k",
    normalised: true,
    softmax: true,
    defaults: {
      // SphereFace multiplies by the raw feature norm |x|; with normalised features a fixed s
      // replaces it, and 64 is the scale insightface uses for its multiplicative-margin head.
      s: { value: 64, why: "fixed scale replacing |x|, as insightface's combined-margin head" },
      m: { value: 4, why: "SphereFace paper (integer angular multiplier)" },
      // The paper anneals λ from 1000 down to 5 to get training started; 0 is DESIGN's s·ψ(θ).
      lambda: { value: 0, why: "DESIGN §1's pure ψ; the paper's annealed floor is 5" },
    },
    classWeights: LEARNED,
  },
  softmax: {
    name: "softmax",
    summary: "plain linear classifier x·Wᵀ + b with softmax cross-entropy (un-normalised baseline)",
    normalised: false,
    softmax: true,
    defaults: {},
    classWeights: LEARNED,
  },
};

/** ArcFace's exact slope divides by sin θ; this floor keeps θ = 0 finite (sin θ ≥ 3e-4 for any f32 cos < 1). */
export const ARC_SIN_EPS = 1e-6;

/** Indices of the head's statistics tensor (f32[STATS_SIZE], filled on the GPU, read when logged). */
export const STATS = {
  /** Batch-mean loss (the P2SGrad loss ½Σ_j(cos − δ)² or the cross-entropy). */
  loss: 0,
  /** Mean angle to the target class weight θ_{i,y_i}, degrees (NaN for softmax). */
  thetaTargetDeg: 1,
  /** Mean cosine to the non-target class weights (NaN for softmax). */
  cosNonTarget: 2,
  /** Frobenius norm of the loss gradient with respect to the features (filled by the backward). */
  featureGradNorm: 3,
  /** Mean target cosine (NaN for softmax). */
  cosTarget: 4,
} as const;
export const STATS_SIZE = 8;

/**
 * Resolves a head by name; `scale`/`margin` null or absent take the head's default. Setting
 * a hyper-parameter the head does not have is a usage error (p2sgrad has none at all).
 */
export function resolveHead(
  name: string,
  opts: {
    scale?: number | null;
    margin?: number | null;
    lambda?: number | null;
    straightThrough?: boolean;
  } = {},
): Head {
  if (!(HEAD_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown head '${name}' (known: ${HEAD_NAMES.join(", ")})`);
  }
  const spec = HEADS[name as HeadName];
  const pick = (
    key: "s" | "m" | "lambda",
    given: number | null | undefined,
    flag: string,
  ): number => {
    const d = spec.defaults[key];
    if (given === null || given === undefined) return d?.value ?? 0;
    if (!d) throw new UsageError(`head ${name} has no ${flag} (it takes: ${describeParams(spec)})`);
    if (!Number.isFinite(given)) {
      throw new UsageError(`head ${name}: ${flag} must be a finite number, got ${given}`);
    }
    return given;
  };
  const head: Head = {
    name: spec.name,
    s: pick("s", opts.scale, "scale (s)"),
    m: pick("m", opts.margin, "margin (m)"),
    lambda: pick("lambda", opts.lambda, "lambda"),
    straightThrough: opts.straightThrough ?? false,
  };
  if (head.straightThrough && name !== "arcface") {
    throw new UsageError(`head ${name}: the straight-through slope is an ArcFace option`);
  }
  if (spec.defaults.s && !(head.s > 0)) {
    throw new UsageError(`head ${name}: scale must be positive, got ${head.s}`);
  }
  if (name === "sphereface" && !(Number.isInteger(head.m) && head.m >= 1 && head.m <= 16)) {
    throw new UsageError(
      `head sphereface: margin m is an integer angle multiplier in 1..16, got ${head.m}`,
    );
  }
  if (name === "arcface" && !(head.m >= 0 && head.m < Math.PI / 2)) {
    throw new UsageError(
      `head arcface: margin m is an angle in radians in [0, π/2), got ${head.m}`,
    );
  }
  if (name === "sphereface" && !(head.lambda >= 0)) {
    throw new UsageError(`head sphereface: lambda must be ≥ 0, got ${head.lambda}`);
  }
  return head;
}

function describeParams(spec: HeadSpec): string {
  const keys = Object.entries(spec.defaults).map(([k, d]) => `${k} = ${d.value}`);
  return keys.length ? keys.join(", ") : "no hyper-parameters";
}

const clampCos = (c: number) => Math.min(1, Math.max(-1, c));

/** The logit f of a cosine (or, for softmax, of a logit), target or not. */
export function headLogit(h: Head, c: number, target: boolean): number {
  switch (h.name) {
    case "p2sgrad":
      return c; // not a softmax head: the value is unused by its loss
    case "softmax":
      return c;
    case "normface":
      return h.s * c;
    case "cosface":
      return h.s * (target ? c - h.m : c);
    case "arcface": {
      if (!target) return h.s * c;
      const cc = clampCos(c);
      // insightface (easy_margin False): cos(θ + m) only while θ + m ≤ π, i.e. cos θ > cos(π − m).
      if (cc > Math.cos(Math.PI - h.m)) return h.s * Math.cos(Math.acos(cc) + h.m);
      return h.s * (cc - Math.sin(Math.PI - h.m) * h.m);
    }
    case "sphereface": {
      if (!target) return h.s * c;
      const cc = clampCos(c);
      const theta = Math.acos(cc);
      const k = Math.min(h.m - 1, Math.floor((h.m * theta) / Math.PI));
      const psi = (k % 2 === 0 ? 1 : -1) * Math.cos(h.m * theta) - 2 * k;
      return (h.s * (h.lambda * cc + psi)) / (1 + h.lambda);
    }
  }
}

/** The slope f'(cos) the gradient uses (ArcFace straight-through: s). */
export function headSlope(h: Head, c: number, target: boolean): number {
  switch (h.name) {
    case "p2sgrad":
      return 1; // P2SGrad drops f' altogether
    case "softmax":
      return 1;
    case "normface":
    case "cosface":
      return h.s;
    case "arcface": {
      if (!target || h.straightThrough) return h.s;
      const cc = clampCos(c);
      if (cc <= Math.cos(Math.PI - h.m)) return h.s;
      const theta = Math.acos(cc);
      return (h.s * Math.sin(theta + h.m)) / Math.max(Math.sin(theta), ARC_SIN_EPS);
    }
    case "sphereface": {
      if (!target) return h.s;
      const cc = clampCos(c);
      const theta = Math.acos(cc);
      const k = Math.min(h.m - 1, Math.floor((h.m * theta) / Math.PI));
      const sign = k % 2 === 0 ? 1 : -1;
      // dψ/dcos = (−1)^k · m · sin(mθ)/sin θ; at the poles the ratio tends to m·(±1)^(m−1).
      const sinTheta = Math.sin(theta);
      const ratio = sinTheta > 1e-9
        ? Math.sin(h.m * theta) / sinTheta
        : h.m * (cc > 0 ? 1 : (-1) ** (h.m - 1));
      return (h.s * (h.lambda + sign * h.m * ratio)) / (1 + h.lambda);
    }
  }
}

export interface HeadLossResult {
  /** Batch-mean loss. */
  loss: number;
  /** Loss of each row (0 for rows whose label is outside 0..K−1). */
  rowLoss: Float64Array;
  /** dL/dcos (N×K): (P − δ)·f'/N for softmax heads, (cos − δ)/N for p2sgrad. */
  dcos: Float64Array;
}

/**
 * The loss of a batch of cosines (or logits) N×K with labels, and its gradient, in float64.
 * A label outside 0..K−1 marks a row without a target: it adds no loss and no gradient
 * (the batch mean still divides by N).
 */
export function headLoss(
  h: Head,
  cos: ArrayLike<number>,
  labels: ArrayLike<number>,
  N: number,
  K: number,
): HeadLossResult {
  const rowLoss = new Float64Array(N), dcos = new Float64Array(N * K);
  for (let i = 0; i < N; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < K)) continue;
    const row = (j: number) => cos[i * K + j];
    if (!HEADS[h.name].softmax) {
      let sq = 0;
      for (let j = 0; j < K; j++) {
        const d = row(j) - (j === y ? 1 : 0);
        sq += d * d;
        dcos[i * K + j] = d / N;
      }
      rowLoss[i] = 0.5 * sq;
      continue;
    }
    const f = new Float64Array(K);
    let max = -Infinity;
    for (let j = 0; j < K; j++) {
      f[j] = headLogit(h, row(j), j === y);
      max = Math.max(max, f[j]);
    }
    let sum = 0;
    for (let j = 0; j < K; j++) sum += Math.exp(f[j] - max);
    const lse = max + Math.log(sum);
    rowLoss[i] = lse - f[y];
    for (let j = 0; j < K; j++) {
      const p = Math.exp(f[j] - lse);
      dcos[i * K + j] = ((p - (j === y ? 1 : 0)) * headSlope(h, row(j), j === y)) / N;
    }
  }
  let loss = 0;
  for (let i = 0; i < N; i++) loss += rowLoss[i];
  return { loss: loss / N, rowLoss, dcos };
}
