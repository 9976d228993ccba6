// The backbone registry (arcface_torch's `get_model(name)`): insightface's iresnet and
// MobileFaceNet with their exact structure and state-dict names, plus `resnet-lite`, a
// narrow iresnet sized to train at batch 64 on a 2-core CPU adapter. The input size is a
// parameter: the last feature map (iresnet's 7×7 at 112 px) follows from it.
import { UsageError } from "../cli/errors.ts";
import { INPUT, type Network, NetworkBuilder } from "./network.ts";

export interface BackboneOptions {
  /** Square input side in pixels (112 as insightface; 64 for the CPU-sized runs). */
  inputSize: number;
  /** Embedding dimension D (512 in insightface). */
  embeddingDim: number;
  /** Dropout before the fc layer (iresnet only; insightface default 0). */
  dropout?: number;
}

export interface BackboneInfo {
  name: string;
  summary: string;
  /** The input size it is usually trained at. */
  defaultInputSize: number;
  build(opts: BackboneOptions): Network;
}

/** iresnet-family layout: a stem convolution, stages of IBasicBlocks, fc, features BN. */
export interface IResNetLayout {
  stemChannels: number;
  stemStride: number;
  stages: { planes: number; blocks: number; stride: number }[];
}

/**
 * insightface's IResNet: conv1 → bn1 → prelu; layer1..4 of IBasicBlock (bn1 → conv1 →
 * bn2 → prelu → conv2(stride) → bn3, plus a 1×1 conv + BN downsample when the shape
 * changes); bn2 → flatten → dropout → fc → features (BatchNorm1d, weight frozen at 1).
 */
export function iresnet(name: string, layout: IResNetLayout, opts: BackboneOptions): Network {
  checkOptions(name, opts);
  const b = new NetworkBuilder(name, opts.inputSize, opts.embeddingDim);
  let x = b.conv("conv1", INPUT, layout.stemChannels, 3, { stride: layout.stemStride, pad: 1 });
  x = b.batchnorm("bn1", x);
  x = b.prelu("prelu", x);
  let inplanes = layout.stemChannels;
  layout.stages.forEach((stage, i) => {
    for (let j = 0; j < stage.blocks; j++) {
      const stride = j === 0 ? stage.stride : 1;
      const downsample = j === 0 && (stride !== 1 || inplanes !== stage.planes);
      x = basicBlock(b, `layer${i + 1}.${j}`, x, stage.planes, stride, downsample);
      inplanes = stage.planes;
    }
  });
  x = b.batchnorm("bn2", x);
  x = b.dropout("dropout", x, opts.dropout ?? 0);
  x = b.linear("fc", x, opts.embeddingDim, true);
  x = b.batchnorm("features", x, { frozenWeight: true });
  return b.finish(x);
}

function basicBlock(
  b: NetworkBuilder,
  prefix: string,
  x: string,
  planes: number,
  stride: number,
  downsample: boolean,
): string {
  let out = b.batchnorm(`${prefix}.bn1`, x);
  out = b.conv(`${prefix}.conv1`, out, planes, 3, { pad: 1 });
  out = b.batchnorm(`${prefix}.bn2`, out);
  out = b.prelu(`${prefix}.prelu`, out);
  out = b.conv(`${prefix}.conv2`, out, planes, 3, { stride, pad: 1 });
  out = b.batchnorm(`${prefix}.bn3`, out);
  let identity = x;
  if (downsample) {
    identity = b.conv(`${prefix}.downsample.0`, x, planes, 1, { stride });
    identity = b.batchnorm(`${prefix}.downsample.1`, identity);
  }
  return b.add(prefix, out, identity);
}

const insightfaceStages = (blocks: [number, number, number, number]) =>
  [64, 128, 256, 512].map((planes, i) => ({ planes, blocks: blocks[i], stride: 2 }));

/**
 * resnet-lite: the iresnet block and head with a stride-2 stem and narrow stages (16 →
 * 16 → 48 → 96 → 128), one block each; ≈ 16 M multiply-adds per 64×64 image (iresnet18
 * needs ≈ 0.85 G at 64 px), so a training step at batch 64 is ≈ 6 GFLOP with backward.
 * Widths are multiples of 16, the output channels one invocation of the convolution
 * kernels keeps in registers: a 24-channel first stage cost as much as a 32-channel one
 * and measured ~20% slower per step overall than this layout.
 */
const RESNET_LITE: IResNetLayout = {
  stemChannels: 16,
  stemStride: 2,
  stages: [
    { planes: 16, blocks: 1, stride: 2 },
    { planes: 48, blocks: 1, stride: 2 },
    { planes: 96, blocks: 1, stride: 2 },
    { planes: 128, blocks: 1, stride: 1 },
  ],
};

/** MobileFaceNet layout: widths, blocks per stage and the group counts of each stage. */
interface MobileFaceNetLayout {
  c1: number;
  c2: number;
  /** conv_sep width, also the GDC width (512 in insightface). */
  sep: number;
  blocks: [number, number, number, number];
  /** Groups of layers.1 when blocks[0] = 1 (a grouped ConvBlock), else of its Residual. */
  stem: number;
  /** Expansion widths (= depthwise groups) of layers.2 … layers.7. */
  groups: [number, number, number, number, number, number];
}

/** arcface_torch `get_mbf`: blocks (1, 4, 6, 2), scale 2. */
const MBF: MobileFaceNetLayout = {
  c1: 128,
  c2: 256,
  sep: 512,
  blocks: [1, 4, 6, 2],
  stem: 64,
  groups: [128, 128, 256, 256, 512, 256],
};

/**
 * insightface's MobileFaceNet: ConvBlock = conv → BN → PReLU, LinearBlock = conv → BN,
 * DepthWise = 1×1 expand → depthwise 3×3 → 1×1 project (+ residual), GDC = depthwise
 * conv over the whole last feature map → flatten → Linear (no bias) → BatchNorm1d.
 */
function mobilefacenet(name: string, m: MobileFaceNetLayout, opts: BackboneOptions): Network {
  checkOptions(name, opts);
  const b = new NetworkBuilder(name, opts.inputSize, opts.embeddingDim);
  const convBlock = (
    p: string,
    x: string,
    out: number,
    k: number,
    stride: number,
    pad: number,
    groups = 1,
  ) => {
    x = b.conv(`${p}.layers.0`, x, out, k, { stride, pad, groups });
    x = b.batchnorm(`${p}.layers.1`, x);
    return b.prelu(`${p}.layers.2`, x);
  };
  const linearBlock = (
    p: string,
    x: string,
    out: number,
    k: number,
    stride: number,
    pad: number,
    groups = 1,
  ) => {
    x = b.conv(`${p}.layers.0`, x, out, k, { stride, pad, groups });
    return b.batchnorm(`${p}.layers.1`, x);
  };
  const depthWise = (
    p: string,
    x: string,
    out: number,
    residual: boolean,
    stride: number,
    groups: number,
  ) => {
    let y = convBlock(`${p}.layers.0`, x, groups, 1, 1, 0);
    y = convBlock(`${p}.layers.1`, y, groups, 3, stride, 1, groups);
    y = linearBlock(`${p}.layers.2`, y, out, 1, 1, 0);
    return residual ? b.add(p, x, y) : y;
  };
  const residual = (p: string, x: string, c: number, n: number, groups: number) => {
    for (let i = 0; i < n; i++) x = depthWise(`${p}.layers.${i}`, x, c, true, 1, groups);
    return x;
  };
  const [g2, g3, g4, g5, g6, g7] = m.groups;
  let x = convBlock("layers.0", INPUT, m.c1, 3, 2, 1);
  x = m.blocks[0] === 1
    ? convBlock("layers.1", x, m.c1, 3, 1, 1, m.stem)
    : residual("layers.1", x, m.c1, m.blocks[0], m.stem);
  x = depthWise("layers.2", x, m.c1, false, 2, g2);
  x = residual("layers.3", x, m.c1, m.blocks[1], g3);
  x = depthWise("layers.4", x, m.c2, false, 2, g4);
  x = residual("layers.5", x, m.c2, m.blocks[2], g5);
  x = depthWise("layers.6", x, m.c2, false, 2, g6);
  x = residual("layers.7", x, m.c2, m.blocks[3], g7);
  x = convBlock("conv_sep", x, m.sep, 1, 1, 0);
  const last = b.shape(x);
  // GDC: its depthwise kernel covers the whole last map (7×7 at 112 px, 4×4 at 64 px).
  x = linearBlock("features.layers.0", x, m.sep, last.H, 1, 0, m.sep);
  x = b.linear("features.layers.2", x, opts.embeddingDim, false);
  x = b.batchnorm("features.layers.3", x);
  return b.finish(x);
}

function checkOptions(name: string, opts: BackboneOptions): void {
  if (!Number.isInteger(opts.inputSize) || opts.inputSize < 8) {
    throw new UsageError(`backbone ${name}: input size ${opts.inputSize} is not an integer ≥ 8`);
  }
  if (!Number.isInteger(opts.embeddingDim) || opts.embeddingDim < 1) {
    throw new UsageError(
      `backbone ${name}: embedding dimension ${opts.embeddingDim} is not a positive integer`,
    );
  }
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new UsageError(`backbone ${name}: dropout ${p} is not in [0, 1)`);
}

const entries: BackboneInfo[] = [
  {
    name: "resnet-lite",
    summary: "narrow iresnet (16-16-48-96-128, 1 block per stage, stride-2 stem): the CPU default",
    defaultInputSize: 64,
    build: (o) => iresnet("resnet-lite", RESNET_LITE, o),
  },
  {
    name: "mobilefacenet",
    summary: "insightface MobileFaceNet (mbf: blocks 1-4-6-2, scale 2, GDC head)",
    defaultInputSize: 112,
    build: (o) => mobilefacenet("mobilefacenet", MBF, o),
  },
  ...([["iresnet18", [2, 2, 2, 2]], ["iresnet34", [3, 4, 6, 3]], ["iresnet50", [3, 4, 14, 3]], [
    "iresnet100",
    [3, 13, 30, 3],
  ]] as const)
    .map(([name, blocks]): BackboneInfo => ({
      name,
      summary: `insightface ${name} (IBasicBlock ×${blocks.join("-")})`,
      defaultInputSize: 112,
      build: (o) =>
        iresnet(
          name,
          { stemChannels: 64, stemStride: 1, stages: insightfaceStages([...blocks]) },
          o,
        ),
    })),
];

/** Every backbone by name. */
export const BACKBONES: ReadonlyMap<string, BackboneInfo> = new Map(
  entries.map((e) => [e.name, e]),
);

/** The backbone this machine trains by default. */
export const DEFAULT_BACKBONE = "resnet-lite";

/** Looks a backbone up by name; an unknown name is a usage error listing the known ones. */
export function getBackbone(name: string): BackboneInfo {
  const info = BACKBONES.get(name);
  if (!info) {
    throw new UsageError(`unknown backbone '${name}' (known: ${[...BACKBONES.keys()].join(", ")})`);
  }
  return info;
}

/** The network description of `name` at the given input size and embedding dimension. */
export function buildNetwork(name: string, opts: BackboneOptions): Network {
  return getBackbone(name).build(opts);
}

/**
 * Tiny members of each family for tests whose CPU reference must be fast: the same
 * blocks and code paths (downsample and identity shortcuts, grouped and depthwise convs,
 * residual adds, the GDC head) at a fraction of the width.
 */
export function tinyNetwork(family: "iresnet" | "mobilefacenet", opts: BackboneOptions): Network {
  if (family === "iresnet") {
    return iresnet("tiny-iresnet", {
      stemChannels: 4,
      stemStride: 1,
      stages: [{ planes: 4, blocks: 2, stride: 2 }, { planes: 6, blocks: 1, stride: 2 }, {
        planes: 6,
        blocks: 1,
        stride: 1,
      }],
    }, opts);
  }
  return mobilefacenet("tiny-mobilefacenet", {
    c1: 6,
    c2: 8,
    sep: 10,
    blocks: [1, 1, 1, 1],
    stem: 3,
    groups: [6, 10, 8, 12, 8, 8],
  }, opts);
}
