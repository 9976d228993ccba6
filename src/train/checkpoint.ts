// Training state on disk: everything a resumed run needs to continue bit for bit
// (backbone parameters and BN running statistics, head weights, the optimizer state, the step,
// the settings and the input's checksum; the randomness is a function of (seed, step) by
// design) in one safetensors file per checkpoint, written atomically; and the final model
// file with the training settings in its metadata.
import { InputError } from "../cli/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Entry,
  type TensorEntry,
  toFloat32,
  writeFileAtomic,
} from "../format/safetensors.ts";
import { encodeModel, type ModelConfig, networkOf } from "../model/model_file.ts";
import type { StateDict } from "../model/params.ts";
import type { TrainConfig } from "./config.ts";

export const CHECKPOINT_KIND = "training-state";
export const CHECKPOINT_VERSION = "2";
const CHECKPOINT_DIR = "checkpoints";

/** What the trainer read: the facts a resumed run checks its input against. */
export interface InputFacts {
  /** Where the faces came from (a file name or stdin), for messages only. */
  source: string;
  rows: number;
  classes: number;
  size: number;
  /** sha256 of ids, labels and pixels in stream order (dataset.ts). */
  checksum: string;
}

export interface TrainingState {
  /** Steps completed. */
  step: number;
  config: TrainConfig;
  model: ModelConfig;
  input: InputFacts;
  /** Backbone parameters and running statistics under PyTorch names. */
  backbone: StateDict;
  /** K×D class weights, and K biases for the softmax head. */
  head: { weight: Float32Array; bias?: Float32Array };
  /** The optimizer state (SGD momentum, or AdamW moments m then v) in group order, with the groups' names. */
  optimizerState: { name: string; values: Float32Array }[];
}

/** The path of the checkpoint after `step` steps. */
export function checkpointPath(runDir: string, step: number): string {
  return `${runDir}/${CHECKPOINT_DIR}/step-${String(step).padStart(8, "0")}.safetensors`;
}

/** The run's checkpoints, oldest first. Temporary files of an interrupted write are ignored. */
export async function listCheckpoints(runDir: string): Promise<{ step: number; path: string }[]> {
  const out: { step: number; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(`${runDir}/${CHECKPOINT_DIR}`)) {
      const m = /^step-(\d+)\.safetensors$/.exec(e.name);
      if (e.isFile && m) {
        out.push({ step: Number(m[1]), path: `${runDir}/${CHECKPOINT_DIR}/${e.name}` });
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort((a, b) => a.step - b.step);
}

export function encodeCheckpoint(s: TrainingState): Uint8Array {
  const net = networkOf(s.model);
  const tensors = new Map<string, TensorEntry>();
  for (const p of net.params) {
    const v = s.backbone.get(p.name);
    if (!v) throw new Error(`checkpoint: backbone state lacks ${p.name}`);
    tensors.set(`backbone.${p.name}`, f32Entry(p.shape, v));
  }
  // Rows: the classes, or D for a fixed frame completed past the classes (trainer.ts headRows).
  const D = s.model.embedding_dim, K = s.head.weight.length / D;
  tensors.set("head.weight", f32Entry([K, D], s.head.weight));
  if (s.head.bias) tensors.set("head.bias", f32Entry([K], s.head.bias));
  s.optimizerState.forEach((v, i) =>
    tensors.set(`optimizer.state.${i}`, f32Entry([v.values.length], v.values))
  );
  return encodeSafetensors(tensors, {
    "p2sgrad.kind": CHECKPOINT_KIND,
    "p2sgrad.version": CHECKPOINT_VERSION,
    "p2sgrad.step": String(s.step),
    "p2sgrad.train_config": JSON.stringify(s.config),
    "p2sgrad.model_config": JSON.stringify(s.model),
    "p2sgrad.input": JSON.stringify(s.input),
    "p2sgrad.optimizer_groups": JSON.stringify(s.optimizerState.map((v) => v.name)),
    "p2sgrad.rng": "counter-based: every random draw is a function of (seed, step)",
  });
}

export function decodeCheckpoint(bytes: Uint8Array, source: string): TrainingState {
  const content = decodeSafetensors(bytes, source);
  const md = content.metadata;
  if (md["p2sgrad.kind"] !== CHECKPOINT_KIND) {
    throw new InputError(
      `${source}: not a training checkpoint (p2sgrad.kind ${
        JSON.stringify(md["p2sgrad.kind"] ?? null)
      })`,
      "--resume takes the run folder that `p2sgrad train --out` wrote",
    );
  }
  if (md["p2sgrad.version"] !== CHECKPOINT_VERSION) {
    throw new InputError(
      `${source}: checkpoint version ${
        JSON.stringify(md["p2sgrad.version"])
      }, this build reads ${CHECKPOINT_VERSION}`,
    );
  }
  const json = <T>(key: string): T => {
    try {
      return JSON.parse(md[key]) as T;
    } catch {
      throw new InputError(`${source}: metadata ${key} is missing or not JSON`);
    }
  };
  const model = json<ModelConfig>("p2sgrad.model_config");
  const input = json<InputFacts>("p2sgrad.input");
  const groups = json<string[]>("p2sgrad.optimizer_groups");
  const tensor = (name: string): Float32Array => {
    const t = content.tensors.get(name);
    if (!t) throw new InputError(`${source}: tensor '${name}' is missing from the checkpoint`);
    return toFloat32(t, name, source).slice();
  };
  const backbone: StateDict = new Map();
  for (const p of networkOf(model).params) backbone.set(p.name, tensor(`backbone.${p.name}`));
  const step = Number(md["p2sgrad.step"]);
  if (!Number.isInteger(step) || step < 0) {
    throw new InputError(`${source}: bad step ${md["p2sgrad.step"]}`);
  }
  return {
    step,
    config: json<TrainConfig>("p2sgrad.train_config"),
    model,
    input,
    backbone,
    head: {
      weight: tensor("head.weight"),
      bias: content.tensors.has("head.bias") ? tensor("head.bias") : undefined,
    },
    optimizerState: groups.map((name, i) => ({ name, values: tensor(`optimizer.state.${i}`) })),
  };
}

/** Writes the checkpoint of `state` (temporary name, then rename) and keeps only the newest `keep`. */
export async function saveCheckpoint(
  runDir: string,
  state: TrainingState,
  keep: number,
): Promise<string> {
  await Deno.mkdir(`${runDir}/${CHECKPOINT_DIR}`, { recursive: true });
  const path = checkpointPath(runDir, state.step);
  await writeFileAtomic(path, encodeCheckpoint(state));
  const all = await listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    await Deno.remove(old.path).catch(() => {});
  }
  return path;
}

/** The newest readable checkpoint of a run; a damaged newest file is reported, not skipped. */
export async function loadLatestCheckpoint(runDir: string): Promise<TrainingState> {
  const all = await listCheckpoints(runDir);
  if (all.length === 0) {
    throw new InputError(
      `${runDir}: no checkpoint to resume from (looked in ${runDir}/${CHECKPOINT_DIR}/)`,
      "a run writes one every --save-every steps and when it stops; start a new run with --out",
    );
  }
  const latest = all[all.length - 1];
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(latest.path);
  } catch (err) {
    throw new InputError(`${latest.path}: cannot read the checkpoint (${(err as Error).message})`);
  }
  const state = decodeCheckpoint(bytes, latest.path);
  if (state.step !== latest.step) {
    throw new InputError(
      `${latest.path}: the file says step ${state.step}, its name says ${latest.step}`,
    );
  }
  return state;
}

/** Training facts stored beside the backbone in the final model file. */
export interface TrainedMeta {
  config: TrainConfig;
  head: Record<string, unknown>;
  steps: number;
  input: Omit<InputFacts, "source">;
}

/**
 * The model file: the backbone only (insightface key names, `p2sgrad.config`), plus the
 * resolved training settings and the input's checksum as metadata. Deterministic bytes.
 */
export function encodeTrainedModel(
  config: ModelConfig,
  state: StateDict,
  meta: TrainedMeta,
): Uint8Array {
  const plain = decodeSafetensors(encodeModel(config, state, meta.steps), "model");
  return encodeSafetensors(plain.tensors, {
    ...plain.metadata,
    "p2sgrad.train_config": JSON.stringify(meta.config),
    "p2sgrad.training": JSON.stringify({ head: meta.head, steps: meta.steps, input: meta.input }),
  });
}
