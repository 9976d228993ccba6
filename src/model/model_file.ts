// Model files: a backbone's state dict under PyTorch names in safetensors, with the
// configuration needed to rebuild it (`p2sgrad.config`) in the metadata. A file exported
// from PyTorch (insightface's iresnet state dict through safetensors.torch.save_file)
// loads as well when the caller names the backbone; ours load there, since every BN also
// carries PyTorch's `num_batches_tracked` counter.
import { InputError } from "../cli/errors.ts";
import {
  encodeSafetensors,
  f32Entry,
  i64Entry,
  readSafetensors,
  type SafetensorsContent,
  type TensorEntry,
  toFloat32,
  toIntegers,
  writeFileAtomic,
} from "../format/safetensors.ts";
import { buildNetwork } from "./backbones.ts";
import type { Network } from "./network.ts";
import type { StateDict } from "./params.ts";

export const MODEL_FILE_VERSION = "1";

/** What rebuilds a backbone, embedded in every model file. */
export interface ModelConfig {
  backbone: string;
  embedding_dim: number;
  input_size: number;
  /** Pixel normalisation: input = (rgb/255 − mean) / std per channel (insightface: 0.5, 0.5). */
  normalisation: { mean: [number, number, number]; std: [number, number, number] };
  /** Dropout before fc (kept so a resumed run rebuilds the same graph). */
  dropout?: number;
}

/** insightface's (x/255 − 0.5) / 0.5, i.e. x/127.5 − 1. */
export const INSIGHTFACE_NORMALISATION: ModelConfig["normalisation"] = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};

/** The network a config describes. */
export function networkOf(config: ModelConfig): Network {
  return buildNetwork(config.backbone, {
    inputSize: config.input_size,
    embeddingDim: config.embedding_dim,
    dropout: config.dropout ?? 0,
  });
}

/** BN modules of a network (owners of `num_batches_tracked`). */
function bnModules(net: Network): string[] {
  return net.layers.flatMap((l) => (l.op === "batchnorm" ? [l.module] : []));
}

/**
 * The safetensors bytes of a model: every parameter and running statistic as F32, each
 * BN's `num_batches_tracked` as I64 (the training steps taken), the config as metadata.
 */
export function encodeModel(config: ModelConfig, state: StateDict, batchesTracked = 0): Uint8Array {
  const net = networkOf(config);
  const tensors = new Map<string, TensorEntry>();
  for (const p of net.params) {
    const v = state.get(p.name);
    if (!v) throw new Error(`model ${config.backbone}: state dict lacks ${p.name}`);
    tensors.set(p.name, f32Entry(p.shape, v));
  }
  for (const m of bnModules(net)) {
    tensors.set(`${m}.num_batches_tracked`, i64Entry([], [BigInt(batchesTracked)]));
  }
  return encodeSafetensors(tensors, {
    format: "pt",
    "p2sgrad.config": JSON.stringify(config),
    "p2sgrad.version": MODEL_FILE_VERSION,
  });
}

/** Writes a model file atomically (temporary name, then rename). */
export async function saveModel(
  path: string,
  config: ModelConfig,
  state: StateDict,
  batchesTracked = 0,
): Promise<void> {
  await writeFileAtomic(path, encodeModel(config, state, batchesTracked));
}

export interface LoadedModel {
  config: ModelConfig;
  net: Network;
  state: StateDict;
  /** PyTorch's BN step counter if the file has one (the largest over modules), else 0. */
  batchesTracked: number;
}

/**
 * What to assume for a file without `p2sgrad.config` (a PyTorch export): the backbone
 * name is required; the embedding dimension is read from the file; the input size
 * defaults to 112 and is checked against the fc / GDC shapes.
 */
export interface ModelFallback {
  backbone?: string;
  input_size?: number;
  normalisation?: ModelConfig["normalisation"];
}

/** Reads a model file; errors name the file and the tensor at fault. */
export async function loadModel(path: string, fallback: ModelFallback = {}): Promise<LoadedModel> {
  return decodeModel(await readSafetensors(path), path, fallback);
}

export function decodeModel(
  content: SafetensorsContent,
  source: string,
  fallback: ModelFallback = {},
): LoadedModel {
  const config = readConfig(content, source, fallback);
  let net: Network;
  try {
    net = networkOf(config);
  } catch (err) {
    throw new InputError(
      `${source}: cannot build backbone '${config.backbone}': ${(err as Error).message}`,
    );
  }
  const state: StateDict = new Map();
  const expected = new Set<string>();
  for (const p of net.params) {
    expected.add(p.name);
    const t = content.tensors.get(p.name);
    if (!t) {
      throw new InputError(
        `${source}: tensor '${p.name}' is missing (backbone ${config.backbone}, ${net.params.length} tensors expected)`,
        "is this a model of that backbone? PyTorch files need their state-dict keys unchanged",
      );
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new InputError(
        `${source}: tensor '${p.name}' has shape [${
          t.shape.join(", ")
        }], backbone ${config.backbone} at ${config.input_size} px with ${config.embedding_dim}-d output needs [${
          p.shape.join(", ")
        }]`,
        p.name.startsWith("fc.") || p.name.startsWith("features.layers.0")
          ? "the fc/GDC input follows the input size: check --input-size"
          : undefined,
      );
    }
    state.set(p.name, toFloat32(t, p.name, source));
  }
  let batchesTracked = 0;
  const unexpected: string[] = [];
  for (const [name, t] of content.tensors) {
    if (expected.has(name)) continue;
    if (
      name.endsWith(".num_batches_tracked") &&
      expected.has(name.replace(/num_batches_tracked$/, "running_mean"))
    ) {
      const [n = 0] = toIntegers(t, name, source);
      batchesTracked = Math.max(batchesTracked, n);
      continue;
    }
    unexpected.push(name);
  }
  if (unexpected.length > 0) {
    throw new InputError(
      `${source}: ${unexpected.length} tensor(s) that backbone ${config.backbone} does not have: ${
        unexpected.slice(0, 5).join(", ")
      }${unexpected.length > 5 ? ", …" : ""}`,
      "a training checkpoint or another architecture? pass the model file written by `p2sgrad train`",
    );
  }
  return { config, net, state, batchesTracked };
}

function readConfig(
  content: SafetensorsContent,
  source: string,
  fallback: ModelFallback,
): ModelConfig {
  const raw = content.metadata["p2sgrad.config"];
  if (raw === undefined) {
    if (!fallback.backbone) {
      throw new InputError(
        `${source}: no p2sgrad.config in the file's metadata, so the backbone is unknown`,
        "name it (e.g. --backbone iresnet50) when loading a PyTorch export",
      );
    }
    const probe = buildNetwork(fallback.backbone, {
      inputSize: fallback.input_size ?? 112,
      embeddingDim: 1,
    });
    const last = probe.layers[probe.layers.length - 1];
    const key = "module" in last ? `${last.module}.running_mean` : "";
    const t = content.tensors.get(key);
    if (!t || t.shape.length !== 1) {
      throw new InputError(
        `${source}: tensor '${key}' is missing, so the embedding dimension is unknown (backbone ${fallback.backbone})`,
      );
    }
    return {
      backbone: fallback.backbone,
      embedding_dim: t.shape[0],
      input_size: fallback.input_size ?? 112,
      normalisation: fallback.normalisation ?? INSIGHTFACE_NORMALISATION,
    };
  }
  const version = content.metadata["p2sgrad.version"];
  if (version !== MODEL_FILE_VERSION) {
    throw new InputError(
      `${source}: model file version ${
        JSON.stringify(version)
      }, this build reads version ${MODEL_FILE_VERSION}`,
    );
  }
  let c: Partial<ModelConfig>;
  try {
    c = JSON.parse(raw);
  } catch (err) {
    throw new InputError(`${source}: p2sgrad.config is not JSON (${(err as Error).message})`);
  }
  const ok = typeof c.backbone === "string" && Number.isInteger(c.embedding_dim) &&
    Number.isInteger(c.input_size) &&
    Array.isArray(c.normalisation?.mean) && Array.isArray(c.normalisation?.std);
  if (!ok) {
    throw new InputError(
      `${source}: p2sgrad.config lacks backbone, embedding_dim, input_size or normalisation: ${raw}`,
    );
  }
  return c as ModelConfig;
}
