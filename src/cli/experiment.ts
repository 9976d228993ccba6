// p2sgrad experiment: reproduces the paper's comparisons (heads, label noise, s/m
// sensitivity) by running the stages as processes for each arm, resumably, and writes a
// report folder. The bookkeeping lives in src/experiment/; this file is flags and wiring.
import { resolve } from "@std/path";
import {
  type Arm,
  DEFAULT_PLAN,
  experimentArms,
  type ExperimentKind,
  EXPERIMENTS,
} from "../experiment/arms.ts";
import { shellQuote } from "../experiment/commands.ts";
import { type DataSettings, findDataRoot, noisyTrain, prepareInputs } from "../experiment/data.ts";
import { environment } from "../experiment/env.ts";
import { makeExecutor, type TrainBudget } from "../experiment/execute.ts";
import { CLASS_WEIGHTS, OPTIMIZERS } from "../train/config.ts";
import { writeReport } from "../experiment/report.ts";
import type { ArmResult } from "../experiment/result.ts";
import { readFinished, runArms, settingsKey } from "../experiment/runner.ts";
import { HEAD_NAMES, type HeadName, HEADS } from "../train/heads.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log } from "./io.ts";
import type { Stage } from "./stage.ts";

/**
 * Budget defaults: the demo's data and training length (its P2SGrad arm trains as the demo
 * does), a few minutes per arm on a 2-core CPU adapter; the flags size a run up or down.
 */
export const DEFAULT_BUDGET = {
  identities: 160,
  perIdentity: 12,
  renderSize: 112,
  size: 64,
  dataSeed: 1,
  backbone: "resnet-lite",
  steps: 150,
  batch: 64,
  lr: 0.1,
  warmupSteps: 0,
  seed: 0,
  valPoints: 3,
  logEvery: 10,
} as const;

const D = DEFAULT_BUDGET, P = DEFAULT_PLAN;

const FLAGS = {
  out: {
    type: "string",
    short: "o",
    arg: "DIR",
    help: "report folder (default report/experiment-<name>); reruns resume in it",
  },
  lfw: {
    type: "boolean",
    help: "real data: train on the CelebA subset (64 px), evaluate on LFW View 2",
  },
  data: {
    type: "string",
    arg: "DIR",
    help:
      "with --lfw: folder of lfw/ and celeba_subset_112x112/ (default $P2SGRAD_DATA, ../shared/data)",
  },
  "val-folds": {
    type: "number",
    arg: "K",
    default: 2,
    help: "with --lfw: LFW folds validated on while training (the curves; 0: none)",
  },
  train: {
    type: "string",
    arg: "FACES",
    help: "training faces stream (instead of synthetic faces)",
  },
  val: { type: "string", arg: "FACES", help: "evaluation faces stream (with --train and --pairs)" },
  pairs: { type: "string", arg: "FILE", help: "pairs file over --val (LFW pairs.txt format)" },
  identities: {
    type: "number",
    arg: "N",
    default: D.identities,
    help: "synthetic: identities (a quarter are held out for the pairs)",
  },
  "per-identity": {
    type: "number",
    arg: "M",
    default: D.perIdentity,
    help: "synthetic: images per identity",
  },
  "render-size": {
    type: "number",
    arg: "S",
    default: D.renderSize,
    help: "synthetic: rendered image side before alignment",
  },
  size: {
    type: "number",
    arg: "S",
    default: D.size,
    help: "synthetic: align --size (network input)",
  },
  "data-seed": { type: "number", default: D.dataSeed, help: "synthetic: generator seed" },
  backbone: { type: "string", arg: "NAME", default: D.backbone, help: "backbone of every arm" },
  "embedding-dim": { type: "number", arg: "D", help: "embedding dimension (default: train's)" },
  steps: {
    type: "number",
    arg: "N",
    default: D.steps,
    help: "training steps per arm (the budget)",
  },
  batch: { type: "number", arg: "N", default: D.batch, help: "images per step" },
  lr: { type: "number", arg: "LR", default: D.lr, help: "peak learning rate (cosine schedule)" },
  optimizer: { type: "string", arg: "NAME", default: "sgd", help: "sgd|adamw, as train's" },
  "class-weights": {
    type: "string",
    arg: "KIND",
    help: "learned|fixed for every arm, as train's (default: train's)",
  },
  "warmup-steps": { type: "number", arg: "N", default: D.warmupSteps, help: "linear warm-up" },
  seed: { type: "number", default: D.seed, help: "training seed (and label-noise seed)" },
  "val-every": {
    type: "number",
    arg: "N",
    help: `steps between validations on the pairs set (default: steps/${D.valPoints})`,
  },
  "save-every": {
    type: "number",
    arg: "N",
    help: "steps between checkpoints, for resuming an arm (default: as --val-every)",
  },
  heads: {
    type: "list",
    arg: "H,H",
    default: [...P.heads],
    help: "heads compared (heads, noise)",
  },
  noise: {
    type: "list",
    arg: "P,P",
    default: P.noise.map(String),
    help: "noise: label-noise levels",
  },
  scales: {
    type: "list",
    arg: "S,S",
    default: P.scales.map(String),
    help: "sensitivity: scales s",
  },
  "arc-margins": {
    type: "list",
    arg: "M,M",
    default: P.arcMargins.map(String),
    help: "sensitivity: ArcFace margins (radians)",
  },
  "cos-margins": {
    type: "list",
    arg: "M,M",
    default: P.cosMargins.map(String),
    help: "sensitivity: CosFace margins",
  },
  "lr-for": {
    type: "list",
    arg: "H=LR,…",
    help: "a head's own peak learning rate, e.g. p2sgrad=1 (the others use --lr)",
  },
  "report-only": {
    type: "boolean",
    help: "write the report from the arms finished so far, training nothing",
  },
} satisfies FlagSpec;

const usage = `Usage: p2sgrad experiment heads|noise|sensitivity [options]

Reproduces the paper's comparisons. Every arm trains the same backbone with the same data,
budget and seed (\`p2sgrad train\`, validating on the pairs set as it goes), then scores the
pairs set (\`p2sgrad embed | p2sgrad evaluate --protocol lfw\`); the stages run as processes.

  heads        p2sgrad, arcface, cosface, normface, softmax, sphereface (--heads): a table of
               accuracy ± std, TAR@FAR, final θy and time; validation accuracy and θy curves
  noise        the heads on training labels with noise 0, 0.1, 0.2, 0.4 (--noise): the label
               noise is applied by the experiment to the aligned training stream (seeded,
               the function of prepare --label-noise); a table and accuracy against noise
  sensitivity  ArcFace and CosFace over --scales × --arc-margins / --cos-margins against one
               P2SGrad run: a table with each head's spread and accuracy against m

Data: synthetic faces by default (made once into DIR/data/ by prepare synthetic | align;
--split train for training, the held-out identities and their pairs for evaluation);
--lfw: the CelebA subset (align --mode resize --size 64) for training and LFW View 2
(align --size 64 with the landmarks) for evaluation, a few LFW folds for the curves; or
--train FACES --val FACES --pairs FILE (faces streams from p2sgrad align, the same size).

Writes DIR/report.md (tables, settings, environment, the commands to rerun), results.json,
commands.sh and plots (.svg and .png). Resumable: an arm is finished when its
DIR/arms/<arm>/result.json exists (written atomically); a rerun skips it, and an arm cut
short continues from its last checkpoint. Changing the data or budget needs another --out.

Needs --allow-run (it starts the stages): \`deno task experiment:heads\` has it.

Options:
${formatFlags(FLAGS)}

Examples:
  deno task experiment:heads                       # synthetic faces, default budget
  deno task experiment:noise --heads p2sgrad,arcface,softmax --steps 100 --identities 120
  deno task experiment:heads-lfw                   # CelebA subset → LFW, sized for < 1 hour
  p2sgrad experiment heads --train mine.arrow --val lfw64.arrow --pairs data/lfw/pairs.txt \\
    --steps 1500 --out report/heads-mine`;

export const stage: Stage = {
  name: "experiment",
  summary: "reproduce the paper's comparisons: heads, label noise, s/m sensitivity",
  usage,
  run,
};

type Flags = ReturnType<typeof parseFlags<typeof FLAGS>>["flags"];

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function numbers(name: string, xs: string[]): number[] {
  return xs.map((x) => {
    const v = Number(x);
    if (x.trim() === "" || !Number.isFinite(v)) {
      throw new UsageError(`--${name} expects numbers, got ${JSON.stringify(x)}`);
    }
    return v;
  });
}

/** `p2sgrad=1,arcface=0.05` → { p2sgrad: 1, arcface: 0.05 }. */
function lrFor(items: string[]): Partial<Record<HeadName, number>> {
  const out: Partial<Record<HeadName, number>> = {};
  for (const item of items) {
    const m = /^([a-z0-9]+)=(.+)$/.exec(item.trim());
    const v = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(v)) {
      throw new UsageError(`--lr-for expects HEAD=LR items, got ${JSON.stringify(item)}`);
    }
    if (m[1] in out) throw new UsageError(`--lr-for names ${m[1]} twice`);
    out[m[1] as HeadName] = v;
  }
  return out;
}

async function fileFacts(path: string): Promise<{ path: string; bytes: number }> {
  try {
    return { path: resolve(path), bytes: (await Deno.stat(path)).size };
  } catch {
    throw new InputError(`${path}: no such file`, "check the path");
  }
}

export interface Resolved {
  kind: ExperimentKind;
  out: string;
  data: DataSettings;
  budget: TrainBudget;
  arms: Arm[];
  /** The flags that reproduce these settings exactly (every value explicit). */
  canonicalArgs: string[];
}

/** Resolves flags into the experiment's settings (no I/O besides checking given files). */
export function resolveSettings(kind: ExperimentKind, f: Flags, dataRoot?: string): Resolved {
  const given = [f.train, f.val, f.pairs].filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new UsageError("--train, --val and --pairs go together (or none: synthetic faces)");
  }
  if (f.lfw && given > 0) {
    throw new UsageError("--lfw brings its own data: leave out --train, --val and --pairs");
  }
  if (f.data !== undefined && !f.lfw) throw new UsageError("--data goes with --lfw");
  const int = (name: string, v: number, min: number) => checkRange(name, v, { min, integer: true });
  const data: DataSettings = f.lfw
    ? {
      source: "lfw",
      root: dataRoot ?? f.data ?? "",
      val_folds: checkRange("val-folds", f["val-folds"], { min: 0, max: 10, integer: true }),
    }
    : f.train
    ? { source: "files", train: f.train, val: f.val!, pairs: f.pairs! }
    : {
      source: "synthetic",
      identities: int("identities", f.identities, 8),
      per_identity: int("per-identity", f["per-identity"], 2),
      render_size: int("render-size", f["render-size"], 16),
      size: int("size", f.size, 8),
      seed: int("data-seed", f["data-seed"], 0),
    };
  const steps = int("steps", f.steps, 1);
  const valEvery = f["val-every"] === undefined
    ? Math.max(1, Math.round(steps / D.valPoints))
    : int("val-every", f["val-every"], 0);
  const budget: TrainBudget = {
    backbone: f.backbone,
    embedding_dim: f["embedding-dim"] === undefined
      ? null
      : int("embedding-dim", f["embedding-dim"], 2),
    steps,
    batch: int("batch", f.batch, 2),
    lr: checkRange("lr", f.lr, { min: 0 }),
    optimizer: choice("optimizer", f.optimizer, OPTIMIZERS),
    ...(f["class-weights"] === undefined
      ? {}
      : { class_weights: choice("class-weights", f["class-weights"], CLASS_WEIGHTS) }),
    warmup_steps: int("warmup-steps", f["warmup-steps"], 0),
    seed: int("seed", f.seed, 0),
    val_every: valEvery,
    save_every: f["save-every"] === undefined ? valEvery : int("save-every", f["save-every"], 0),
    log_every: Math.min(D.logEvery, steps),
  };
  const plan = {
    heads: f.heads as HeadName[],
    noise: numbers("noise", f.noise),
    scales: numbers("scales", f.scales),
    arcMargins: numbers("arc-margins", f["arc-margins"]),
    cosMargins: numbers("cos-margins", f["cos-margins"]),
    lrFor: lrFor(f["lr-for"]),
  };
  const arms = experimentArms(kind, plan);
  const out = f.out ?? `report/experiment-${kind}`;

  const args: string[] = ["--out", out];
  if (data.source === "files") {
    args.push("--train", data.train, "--val", data.val, "--pairs", data.pairs);
  } else if (data.source === "lfw") {
    args.push("--lfw", "--data", data.root, "--val-folds", String(data.val_folds));
  } else {
    args.push(
      "--identities",
      String(data.identities),
      "--per-identity",
      String(data.per_identity),
      "--render-size",
      String(data.render_size),
      "--size",
      String(data.size),
      "--data-seed",
      String(data.seed),
    );
  }
  args.push("--backbone", budget.backbone);
  if (budget.embedding_dim !== null) args.push("--embedding-dim", String(budget.embedding_dim));
  if (budget.class_weights !== undefined) args.push("--class-weights", budget.class_weights);
  args.push(
    "--steps",
    String(steps),
    "--batch",
    String(budget.batch),
    "--lr",
    String(budget.lr),
    "--optimizer",
    budget.optimizer,
    "--warmup-steps",
    String(budget.warmup_steps),
    "--seed",
    String(budget.seed),
    "--val-every",
    String(budget.val_every),
    "--save-every",
    String(budget.save_every),
  );
  if (kind !== "sensitivity") args.push("--heads", plan.heads.join(","));
  const lrs = Object.entries(plan.lrFor).map(([h, lr]) => `${h}=${lr}`);
  if (lrs.length) args.push("--lr-for", lrs.join(","));
  if (kind === "noise") args.push("--noise", plan.noise.join(","));
  if (kind === "sensitivity") {
    args.push(
      "--scales",
      plan.scales.join(","),
      "--arc-margins",
      plan.arcMargins.join(","),
      "--cos-margins",
      plan.cosMargins.join(","),
    );
  }
  return { kind, out, data, budget, arms, canonicalArgs: args };
}

function lrNote(arms: Arm[]): string {
  const own = [...new Set(arms.filter((a) => a.lr !== null).map((a) => `${a.head} ${a.lr}`))];
  return own.length ? ` (own rates: ${own.join(", ")})` : "";
}

function settingLines(r: Resolved): string[] {
  const d = r.data, b = r.budget;
  const data = d.source === "synthetic"
    ? `data: synthetic faces, seed ${d.seed}: ${d.identities} identities × ${d.per_identity} images rendered at ${d.render_size} px, aligned to ${d.size} px; 75% of identities train, the held-out 25% form the pairs set`
    : d.source === "lfw"
    ? `data: training ${d.root}/celeba_subset_112x112 (resized to 64 px); evaluation LFW View 2 (${d.root}/lfw/pairs.txt, 6,000 pairs; aligned to 64 px with the 150 px landmarks); curves validated on LFW folds 1-${d.val_folds}`
    : `data: training ${d.train}, evaluation ${d.val} with pairs ${d.pairs}`;
  const lines = [
    data,
    `backbone ${b.backbone}${b.embedding_dim ? `, embedding ${b.embedding_dim}-d` : ""}${
      b.class_weights
        ? `, ${b.class_weights} class weights`
        : `, each head's default class weights (a fixed frame for ${
          HEAD_NAMES.filter((h) => HEADS[h].classWeights.value === "fixed").join(", ")
        }; learned for the others)`
    }; ${b.steps} steps of ${b.batch} images, ${
      b.optimizer === "adamw" ? "AdamW" : "SGD"
    } lr ${b.lr}${lrNote(r.arms)} (cosine, warm-up ${b.warmup_steps}), seed ${b.seed}`,
    `validation every ${b.val_every} steps on the pairs set (the curves); checkpoints every ${b.save_every} steps`,
    `arms: ${r.arms.map((a) => a.id).join(", ")}`,
  ];
  if (r.kind === "noise") {
    lines.push(
      "label noise: applied by the experiment to the aligned training stream with prepare's seeded function (src/data/select.ts addLabelNoise, seed = training seed): exactly round(p·N) images get a uniformly drawn wrong label; clean_label keeps the truth; the pairs set is clean",
    );
  }
  return lines;
}

async function canRun(): Promise<boolean> {
  const s = await Deno.permissions.query({ name: "run" });
  return s.state === "granted";
}

async function run(args: string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags(args, FLAGS);
  const kind = positional[0];
  if (kind === undefined) throw new UsageError(`name an experiment: ${EXPERIMENTS.join(", ")}`);
  if (!(EXPERIMENTS as readonly string[]).includes(kind)) {
    throw new UsageError(`unknown experiment '${kind}' (known: ${EXPERIMENTS.join(", ")})`);
  }
  if (positional.length > 1) throw new UsageError(`unexpected argument ${positional[1]}`);
  const root = flags.lfw ? await findDataRoot(flags.data, `experiment ${kind} --lfw`) : undefined;
  const r = resolveSettings(kind as ExperimentKind, flags, root);
  if (!flags["report-only"] && !(await canRun())) {
    throw new InputError(
      "the experiment runs the stages as processes and needs --allow-run",
      `use \`deno task experiment:${kind}\`, or add --allow-run to the deno run command`,
    );
  }
  const shared = {
    // Where the data folder lies does not change the results: it stays out of the key.
    data: r.data.source === "lfw"
      ? { source: "lfw", val_folds: r.data.val_folds }
      : r.data.source === "files"
      ? {
        source: "files",
        train: await fileFacts(r.data.train),
        val: await fileFacts(r.data.val),
        pairs: await fileFacts(r.data.pairs),
      }
      : r.data,
    budget: r.budget,
  };
  const key = await settingsKey(shared);
  const log = new Log(io.stderr, io.stderrIsTerminal);
  const say = (line: string) => log.line(line);
  try {
    await Deno.mkdir(r.out, { recursive: true });
    await say(
      `experiment ${kind}: ${r.arms.length} arms, ${r.budget.steps} steps each, report in ${r.out}`,
    );
    const finished = async () => {
      const done: ArmResult[] = [];
      for (const a of r.arms) {
        const x = await readFinished(r.out, a, key);
        if (x) done.push(x);
      }
      return done;
    };
    let dataCommands: string[] = [];
    const report = async (results: ArmResult[]) =>
      writeReport(r.out, {
        kind: r.kind,
        settings: { ...shared, arms: r.arms, settings_key: key },
        settingLines: settingLines(r),
        env: await environment(results.find((x) => x.adapter)?.adapter ?? undefined),
        results,
        arms: r.arms,
        rerun: [
          "npx -y deno@2.9.6 run --allow-read --allow-write --allow-env --allow-run main.ts experiment",
          kind,
          ...r.canonicalArgs.map(shellQuote),
        ].join(" "),
        dataCommands,
        mainPath: MAIN,
      });
    let results: ArmResult[];
    if (flags["report-only"]) {
      results = await finished();
    } else {
      const inputs = await prepareInputs(r.data, r.out, say);
      dataCommands = inputs.commands;
      const execute = makeExecutor(r.budget, inputs, async (arm) => {
        const noisy = await noisyTrain(inputs, arm.noise, r.budget.seed, r.out);
        if (noisy.flipped > 0) {
          await say(
            `experiment: ${noisy.path}: ${noisy.flipped} labels replaced (noise ${arm.noise})`,
          );
        }
        return noisy.path;
      });
      try {
        results =
          (await runArms({ reportDir: r.out, arms: r.arms, settingsKey: key, execute, log: say }))
            .results;
      } catch (err) {
        // A failed arm stops the run; what finished so far is still reported.
        const done = await finished().catch(() => []);
        if (done.length > 0) {
          await report(done);
          await say(
            `experiment ${kind}: partial report of ${done.length} arms in ${r.out}/report.md`,
          );
        }
        throw err;
      }
    }
    await report(results);
    await say(
      `experiment ${kind}: ${results.length} of ${r.arms.length} arms reported in ${r.out}/report.md`,
    );
  } finally {
    await log.close();
  }
  return 0;
}

/** `v` when it is one of `allowed`, else a usage error naming the flag. */
function choice(flag: string, v: unknown, allowed: readonly string[]): string {
  if (!allowed.includes(v as string)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join("|")}, got ${v}`);
  }
  return v as string;
}
