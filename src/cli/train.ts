// p2sgrad train: reads a faces stream once into a cache and trains a backbone with a
// cosine head (P2SGrad by default) on WebGPU, writing a run folder: config.json, run.json,
// train.log, checkpoints/, curves.svg/png and model.safetensors.
import denoJson from "../../deno.json" with { type: "json" };
import { openRecordStream } from "../format/stream.ts";
import { getGpu } from "../gpu/device.ts";
import { BACKBONES, getBackbone } from "../model/backbones.ts";
import { maxBatch } from "../model/mod.ts";
import { INSIGHTFACE_NORMALISATION, type ModelConfig } from "../model/model_file.ts";
import {
  encodeTrainedModel,
  type InputFacts,
  listCheckpoints,
  loadLatestCheckpoint,
  type TrainingState,
} from "../train/checkpoint.ts";
import { BASE_CONFIG, resolveConfig, type TrainConfig } from "../train/config.ts";
import { cacheFaces, type FaceSet, MEMORY_CACHE_LIMIT, stepsPerEpoch } from "../train/dataset.ts";
import { Embedder } from "../train/embedder.ts";
import { HEAD_NAMES, HEADS, resolveHead } from "../train/heads.ts";
import { type LoopResult, runLoop } from "../train/loop.ts";
import { readLog, TrainLog, writeCurves } from "../train/run_log.ts";
import { headRows, Trainer } from "../train/trainer.ts";
import { loadValidation } from "../train/validate.ts";
import { writeFileAtomic } from "../format/safetensors.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log, openInput } from "./io.ts";
import type { Stage } from "./stage.ts";

const B = BASE_CONFIG;

/** Flags that set a training setting (TrainConfig key = flag name with '-' → '_'). */
const SETTINGS = {
  backbone: {
    type: "string",
    arg: "NAME",
    help: `backbone from the registry below (default ${B.backbone})`,
  },
  "embedding-dim": {
    type: "number",
    arg: "D",
    help: `embedding dimension (default ${B.embedding_dim})`,
  },
  head: { type: "string", arg: "NAME", help: `${HEAD_NAMES.join("|")} (default ${B.head})` },
  scale: {
    type: "number",
    arg: "S",
    help: "scale s of normface/cosface/arcface/sphereface (default 64)",
  },
  margin: {
    type: "number",
    arg: "M",
    help: "margin m of cosface (0.35), arcface (0.5 rad), sphereface (4)",
  },
  "arcface-straight-through": {
    type: "boolean",
    help: "arcface: back-propagate f' = s, as insightface effectively does",
  },
  "class-weights": {
    type: "string",
    arg: "KIND",
    help:
      "learned|fixed: fixed keeps a seeded orthonormal frame, never updated (default: p2sgrad fixed, the other heads learned)",
  },
  epochs: { type: "number", arg: "E", help: `training length in epochs (default ${B.epochs})` },
  steps: {
    type: "number",
    arg: "N",
    help: "training length in steps (overrides --epochs; the schedule spans it)",
  },
  batch: { type: "number", arg: "N", help: `images per step (default ${B.batch})` },
  "grad-accum": {
    type: "number",
    arg: "A",
    help: `run each batch as A micro-batches, gradients averaged (default ${B.grad_accum})`,
  },
  lr: { type: "number", arg: "LR", help: `peak learning rate (default ${B.lr})` },
  schedule: {
    type: "string",
    arg: "NAME",
    help: `step|cosine|poly after warm-up (default ${B.schedule})`,
  },
  milestones: {
    type: "list",
    arg: "E,E",
    help: "step schedule: epochs where lr ×= gamma (default: 50% and 75%)",
  },
  gamma: { type: "number", arg: "G", help: `step schedule factor (default ${B.gamma})` },
  power: { type: "number", arg: "P", help: `poly schedule exponent (default ${B.power})` },
  "warmup-steps": {
    type: "number",
    arg: "N",
    help: `linear warm-up from lr/100 (default ${B.warmup_steps})`,
  },
  optimizer: {
    type: "string",
    arg: "NAME",
    help:
      `sgd|adamw (default ${B.optimizer}; adamw as arcface_torch's ViT configs: --lr 0.001 --weight-decay 0.1)`,
  },
  momentum: {
    type: "number",
    arg: "M",
    help: `SGD momentum, AdamW's β1 (default ${B.momentum})`,
  },
  "weight-decay": {
    type: "number",
    arg: "WD",
    help: `on conv/linear/head weights (default ${B.weight_decay})`,
  },
  "clip-grad": {
    type: "number",
    arg: "NORM",
    help: "clip the backbone's global gradient norm, as arcface_torch (default off)",
  },
  dropout: {
    type: "number",
    arg: "P",
    help: `dropout before the embedding layer (default ${B.dropout})`,
  },
  flip: {
    type: "boolean",
    help: "random horizontal flips (on by default; --no-flip turns them off)",
  },
  seed: { type: "number", help: `seed of init, order, flips and dropout (default ${B.seed})` },
  "log-every": {
    type: "number",
    arg: "N",
    help: `steps between train.log lines (default ${B.log_every})`,
  },
  "save-every": {
    type: "number",
    arg: "N",
    help: "steps between checkpoints (default 0: only at the end)",
  },
  "keep-checkpoints": {
    type: "number",
    arg: "N",
    help: `checkpoints kept (default ${B.keep_checkpoints})`,
  },
  val: { type: "string", arg: "FACES", help: "validation faces stream (LFW-style pairs protocol)" },
  "val-pairs": {
    type: "string",
    arg: "FILE",
    help: "pairs file for --val (LFW pairs.txt or 'id1 id2 0|1')",
  },
  "val-every": {
    type: "number",
    arg: "N",
    help: "steps between validations (default 0: at the end)",
  },
} satisfies FlagSpec;

const FLAGS = {
  out: {
    type: "string",
    short: "o",
    arg: "RUN_DIR",
    help: "run folder to create (required unless --resume)",
  },
  config: {
    type: "string",
    arg: "FILE",
    help: "JSON settings (keys as below, snake or kebab case); flags win",
  },
  resume: {
    type: "string",
    arg: "RUN_DIR",
    help: "continue a run from its latest checkpoint (same stream!)",
  },
  "stop-after": {
    type: "number",
    arg: "K",
    help: "stop after K steps with a checkpoint (the schedule keeps its length)",
  },
  ...SETTINGS,
} satisfies FlagSpec;

const usage = `Usage: p2sgrad train [options] --out RUN_DIR [faces.arrow|-]

Trains a backbone with a cosine classification head on WebGPU from a faces stream (from
p2sgrad align). The stream is read once into a cache (memory, or RUN_DIR/faces.cache when
large); each epoch draws it in a seeded order with random flips. Labels and the class
count come from the stream. The default head is P2SGrad (no scale, no margin).

Writes RUN_DIR/config.json (resolved settings: pass it back with --config), run.json
(adapter, versions, input rows and checksum), train.log (NDJSON: step, epoch, loss,
theta_y_deg, cos_nontarget, grad_norm_features, grad_norm, lr, img_per_s, val_acc, val_std),
checkpoints/ (training state, written atomically), curves.svg/png and model.safetensors (the
backbone with insightface key names; the settings in its metadata). Same stream, settings, seed
and adapter: the same model bytes; a resumed run ends with the bytes of an uninterrupted one.

Options:
${formatFlags(FLAGS)}

Backbones: ${[...BACKBONES.keys()].join(", ")}
Heads: ${HEAD_NAMES.join(", ")} (p2sgrad has no scale or margin)

Examples:
  p2sgrad prepare data/celeba_subset_112x112/train_list.txt | p2sgrad align --mode resize --size 64 \\
    | p2sgrad train --out run/celeba
  p2sgrad train --head arcface --scale 32 --epochs 20 --lr 0.05 --save-every 200 -o run/arc faces.arrow
  p2sgrad train -o run/a --val lfw64.arrow --val-pairs data/lfw/pairs.txt --val-every 500 faces.arrow
  p2sgrad train -o run/a --steps 1000 --stop-after 400 faces.arrow    # later, with the same stream:
  p2sgrad train --resume run/a faces.arrow`;

export const stage: Stage = {
  name: "train",
  summary: "train a backbone with a cosine head (P2SGrad by default) on WebGPU",
  usage,
  run,
};

type Parsed = ReturnType<typeof parseFlags<typeof FLAGS>>;

/** The settings given on the command line, as a config layer. */
function flagLayer(p: Parsed): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS)) {
    if (!p.given.has(name)) continue;
    const v = (p.flags as Record<string, unknown>)[name];
    // List flags arrive as string arrays; the config layer parses "2,4" itself.
    values[name.replaceAll("-", "_")] = Array.isArray(v) ? v.join(",") : v;
  }
  return values;
}

async function fileLayer(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UsageError(`--config ${path}: cannot read the file`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: not JSON (${(err as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new UsageError(`--config ${path}: expected a JSON object of settings`);
  }
  return v as Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The checks that need the data: all before any GPU work. */
function checkData(set: FaceSet, c: TrainConfig, source: string): void {
  if (set.rows === 0) {
    throw new InputError(
      `${source}: the faces stream is empty`,
      "check the prepare and align stages upstream",
    );
  }
  const distinct = new Set(set.labels).size;
  if (distinct < 2) {
    throw new InputError(
      `${source}: all ${set.rows} faces have one identity (label ${
        set.labels[0]
      }); a classifier needs at least two`,
      "prepare labels identities from folder names or the list file's second column",
    );
  }
  if (c.batch > set.rows) {
    throw new InputError(
      `${source}: --batch ${c.batch} is larger than the dataset's ${set.rows} faces`,
      `use --batch ${Math.max(2, 2 ** Math.floor(Math.log2(set.rows)))} or fewer`,
    );
  }
}

/**
 * Refuses, before any kernel is built, a micro-batch whose activations exceed one storage
 * binding of the adapter, naming the --grad-accum that fits.
 */
function checkBatchFits(
  c: TrainConfig,
  m: ModelConfig,
  fits: number,
  limits: { maxStorageBufferBindingSize: number },
): void {
  const micro = c.batch / c.grad_accum;
  if (micro <= fits) return;
  let parts = c.grad_accum;
  while (parts < c.batch && (c.batch % parts !== 0 || c.batch / parts > fits)) parts++;
  const mib = Math.round(limits.maxStorageBufferBindingSize / 2 ** 20);
  throw new InputError(
    `batch ${c.batch}${c.grad_accum > 1 ? ` as ${c.grad_accum} micro-batches of ${micro}` : ""}: ` +
      `${m.backbone} at ${m.input_size} px fits at most ${fits} images per pass in this ` +
      `adapter's ${mib} MiB storage binding`,
    fits >= 1
      ? `add --grad-accum ${parts} (${c.batch / parts} images per pass, the same batch per step) ` +
        `or lower --batch`
      : "use a smaller --size in align, or another backbone",
  );
}

function modelConfigOf(c: TrainConfig, size: number): ModelConfig {
  return {
    backbone: c.backbone,
    embedding_dim: c.embedding_dim,
    input_size: size,
    normalisation: INSIGHTFACE_NORMALISATION,
    dropout: c.dropout,
  };
}

async function run(args: string[], io: Io): Promise<number> {
  const parsed = parseFlags(args, FLAGS);
  const { flags, positional } = parsed;
  if (positional.length > 1) {
    throw new UsageError(`expected at most one input, got ${positional.join(" ")}`);
  }
  const stopAfter = flags["stop-after"] === undefined
    ? null
    : checkRange("stop-after", flags["stop-after"], { min: 1, integer: true });

  // Settings: a new run resolves base ← --config ← flags; a resumed one keeps its own.
  let resumed: TrainingState | null = null;
  let createdDir = false;
  let runDir: string;
  let config: TrainConfig;
  if (flags.resume !== undefined) {
    if (flags.out !== undefined && flags.out !== flags.resume) {
      throw new UsageError("--resume continues the run in its own folder; leave out --out");
    }
    const changed = Object.keys(SETTINGS).filter((n) => parsed.given.has(n));
    if (changed.length > 0 || flags.config !== undefined) {
      throw new UsageError(
        `--resume keeps the run's saved settings; ${
          [...changed.map((n) => `--${n}`), ...(flags.config ? ["--config"] : [])].join(", ")
        } cannot change them (start a new run with --out to train with other settings)`,
      );
    }
    runDir = flags.resume;
    resumed = await loadLatestCheckpoint(runDir);
    // Runs from before --class-weights existed learned their class weights.
    config = { ...resumed.config, class_weights: resumed.config.class_weights ?? "learned" };
  } else {
    if (flags.out === undefined) {
      throw new UsageError("--out RUN_DIR is required (the run folder to create)");
    }
    runDir = flags.out;
    const layers = [];
    if (flags.config !== undefined) {
      layers.push({ source: flags.config, values: await fileLayer(flags.config) });
    }
    layers.push({ source: "flags", values: flagLayer(parsed) });
    config = resolveConfig(...layers);
    getBackbone(config.backbone);
  }
  const head = resolveHead(config.head, {
    scale: config.scale,
    margin: config.margin,
    straightThrough: config.arcface_straight_through,
  });
  if (config.class_weights === null) {
    config = { ...config, class_weights: HEADS[head.name].classWeights.value };
  }
  if (config.batch < 2) {
    throw new UsageError(`batch must be at least 2 (batch-norm statistics), got ${config.batch}`);
  }
  if (!resumed) {
    if (await exists(`${runDir}/config.json`) || (await listCheckpoints(runDir)).length > 0) {
      throw new InputError(
        `${runDir} already holds a run`,
        `continue it with --resume ${runDir}, or choose another --out`,
      );
    }
    createdDir = !(await exists(runDir));
    await Deno.mkdir(runDir, { recursive: true });
  }

  const log = new Log(io.stderr, io.stderrIsTerminal);
  let wroteFiles = false;
  let data: FaceSet | null = null;
  let trainer: Trainer | null = null;
  let embedder: Embedder | null = null;
  try {
    const input = await openInput(io, positional[0]);
    const stream = await openRecordStream(input.readable, "faces", input.name);
    const readStart = performance.now();
    data = await cacheFaces(stream, runDir);
    checkData(data, config, input.name);
    const facts: InputFacts = {
      source: input.name,
      rows: data.rows,
      classes: data.classes,
      size: data.size,
      checksum: data.checksum,
    };
    if (resumed) checkSameInput(resumed, facts, runDir);
    const modelConfig = resumed?.model ?? modelConfigOf(config, data.size);
    const perEpoch = stepsPerEpoch(data.rows, config.batch);
    const totalSteps = config.steps ?? Math.max(1, Math.round(config.epochs * perEpoch));
    if (stopAfter !== null && (stopAfter > totalSteps || stopAfter <= (resumed?.step ?? 0))) {
      throw new UsageError(
        `--stop-after ${stopAfter} must lie after step ${
          resumed?.step ?? 0
        } and within the run's ${totalSteps} steps`,
      );
    }
    const validation = config.val !== null
      ? await loadValidation(config.val, config.val_pairs!, data.size)
      : null;
    await log.line(
      `train: ${data.rows} faces ${data.size}×${data.size}, ${data.classes} classes from ${input.name} ` +
        `(read in ${((performance.now() - readStart) / 1000).toFixed(1)} s, sha256 ${
          data.checksum.slice(0, 12)
        }…)`,
    );

    const rows = headRows(config, data.classes, modelConfig.embedding_dim);
    if (rows > data.classes) {
      await log.line(
        `train: fixed class weights: ${data.classes} classes in ${modelConfig.embedding_dim} dimensions; ` +
          `the frame is completed with ${rows - data.classes} directions no class has`,
      );
    }
    const gpu = await getGpu();
    checkBatchFits(config, modelConfig, maxBatch(gpu, modelConfig), gpu.limits);
    trainer = await Trainer.create(gpu, { config, model: modelConfig, head, data, totalSteps });
    if (resumed) trainer.restore(resumed);
    else trainer.initialise();
    if (validation) {
      embedder = await Embedder.create(gpu, modelConfig, {
        batch: 64,
        flip: false,
        shareParams: trainer.model,
      });
    }
    const startStep = resumed?.step ?? 0;
    const headDesc = HEADS[head.name].defaults.s
      ? `${head.name} (s ${head.s}, m ${head.m})`
      : head.name;
    await log.line(
      `train: ${modelConfig.backbone} → ${modelConfig.embedding_dim}-d, head ${headDesc}, batch ${config.batch}, ` +
        `${totalSteps} steps (${perEpoch} per epoch), lr ${config.lr} ${config.schedule}` +
        (resumed ? `; resuming at step ${startStep}` : "") + ` on ${gpu.adapterName}`,
    );
    wroteFiles = true;
    if (!resumed) {
      await Deno.writeTextFile(`${runDir}/config.json`, JSON.stringify(config, null, 2) + "\n");
    }
    const session = {
      started_at: new Date().toISOString(),
      from_step: startStep,
      adapter: gpu.adapterName,
      deno: Deno.version.deno,
      p2sgrad: denoJson.version,
      stop_after: stopAfter,
    };
    const runInfo = await readRunInfo(runDir);
    const sessions = [...(runInfo.sessions ?? []), session];
    const writeRunInfo = (extra: Record<string, unknown>) =>
      writeFileAtomic(
        `${runDir}/run.json`,
        new TextEncoder().encode(
          JSON.stringify(
            {
              p2sgrad_version: denoJson.version,
              deno: Deno.version.deno,
              adapter: gpu.adapterName,
              input: {
                ...facts,
                cache: data!.rows * data!.size * data!.size * 3 > MEMORY_CACHE_LIMIT
                  ? "file"
                  : "memory",
              },
              model: modelConfig,
              head,
              steps_planned: totalSteps,
              steps_per_epoch: perEpoch,
              ...extra,
              sessions,
            },
            null,
            2,
          ) + "\n",
        ),
      );
    await writeRunInfo({ status: "running" });

    const trainLog = await TrainLog.open(`${runDir}/train.log`, startStep);
    let result: LoopResult;
    try {
      result = await runLoop({
        trainer,
        runDir,
        input: facts,
        startStep,
        totalSteps,
        stopAfter,
        log,
        trainLog,
        validation: validation && embedder ? { set: validation, embedder } : null,
      });
    } catch (err) {
      Object.assign(session, {
        ended_at: new Date().toISOString(),
        status: "failed",
        error: (err as Error).message,
      });
      await writeRunInfo({ status: "failed" }).catch(() => {});
      throw err;
    } finally {
      trainLog.close();
      await writeCurves(
        runDir,
        await readLog(`${runDir}/train.log`),
        `${modelConfig.backbone} + ${head.name}`,
      )
        .catch(() => {});
    }
    Object.assign(session, {
      ended_at: new Date().toISOString(),
      to_step: result.step,
      seconds: Number(result.seconds.toFixed(1)),
      status: result.finished ? "finished" : "stopped",
    });
    if (result.finished) {
      const state = await trainer.model.readState();
      const bytes = encodeTrainedModel(modelConfig, state, {
        config,
        head: { ...head },
        steps: result.step,
        input: {
          rows: facts.rows,
          classes: facts.classes,
          size: facts.size,
          checksum: facts.checksum,
        },
      });
      await writeFileAtomic(`${runDir}/model.safetensors`, bytes);
    }
    await writeRunInfo({ status: result.finished ? "finished" : "stopped", final: result.last });
    const images = (result.step - startStep) * config.batch;
    await log.line(
      result.finished
        ? `train: done, ${result.step} steps in ${result.seconds.toFixed(1)} s (${
          Math.round(images / Math.max(result.seconds, 1e-9))
        } img/s); model: ${runDir}/model.safetensors`
        : `train: stopped after step ${result.step} of ${totalSteps} with a checkpoint; continue with ` +
          `\`p2sgrad train --resume ${runDir}\` and the same stream`,
    );
  } finally {
    embedder?.destroy();
    trainer?.destroy();
    data?.close();
    await log.close();
    // A run refused before it started leaves no folder behind (only one this call created).
    if (createdDir && !wroteFiles) await Deno.remove(runDir, { recursive: true }).catch(() => {});
  }
  return 0;
}

/** A resumed run must see the bytes it started with, or it would not continue the same run. */
function checkSameInput(s: TrainingState, now: InputFacts, runDir: string): void {
  const was = s.input;
  if (was.checksum === now.checksum) return;
  const what = was.rows !== now.rows
    ? `${now.rows} faces where the run had ${was.rows}`
    : was.size !== now.size
    ? `${now.size}×${now.size} faces where the run had ${was.size}×${was.size}`
    : `the same number of faces (${now.rows}) with different ids, labels, pixels or order`;
  throw new InputError(
    `--resume ${runDir}: the faces stream differs from the one the run was trained on: ${what} ` +
      `(sha256 ${now.checksum.slice(0, 16)}… vs ${was.checksum.slice(0, 16)}… from ${was.source})`,
    "a resumed run continues exactly only on the same stream: pipe the same prepare | align output again",
  );
}

async function readRunInfo(runDir: string): Promise<{ sessions?: unknown[] }> {
  try {
    return JSON.parse(await Deno.readTextFile(`${runDir}/run.json`));
  } catch {
    return {};
  }
}
