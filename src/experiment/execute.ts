// One arm's work, as real stage processes: `p2sgrad train` on the arm's training stream
// (validating on the pairs set, or a part of it, as it goes), then `p2sgrad embed | p2sgrad evaluate` on the
// pairs set. An interrupted arm continues from its last checkpoint (`train --resume`); a
// finished training run is not repeated when only the evaluation was cut short.
import { InputError } from "../cli/errors.ts";
import { listCheckpoints } from "../train/checkpoint.ts";
import type { LogEntry } from "../train/run_log.ts";
import { readLog } from "../train/run_log.ts";
import { runPipeline } from "../util/pipeline.ts";
import type { Arm } from "./arms.ts";
import { formatCommand } from "./commands.ts";
import type { Inputs } from "./data.ts";
import type { ArmResult, CurvePoint } from "./result.ts";
import type { ArmExecutor } from "./runner.ts";

/** The training settings every arm shares (the budget). */
export interface TrainBudget {
  backbone: string;
  /** Embedding dimension D (null: train's default). */
  embedding_dim: number | null;
  steps: number;
  batch: number;
  lr: number;
  /** train's --optimizer (sgd or adamw). */
  optimizer: string;
  /** train's --class-weights for every arm; absent: each head's default (train's). */
  class_weights?: string;
  warmup_steps: number;
  seed: number;
  /** Steps between validations on the pairs set (the curves' points); 0: only at the end. */
  val_every: number;
  /** Steps between checkpoints, so an interrupted arm resumes (0: only at the end). */
  save_every: number;
  log_every: number;
}

/** train's arguments for an arm (without the input file). */
export function trainArgs(b: TrainBudget, arm: Arm, inputs: Inputs, runDir: string): string[] {
  const args = ["train", "--out", runDir, "--head", arm.head];
  if (arm.scale !== null) args.push("--scale", String(arm.scale));
  if (arm.margin !== null) args.push("--margin", String(arm.margin));
  args.push("--backbone", b.backbone);
  if (b.embedding_dim !== null) args.push("--embedding-dim", String(b.embedding_dim));
  if (b.class_weights !== undefined) args.push("--class-weights", b.class_weights);
  args.push(
    "--steps",
    String(b.steps),
    "--batch",
    String(b.batch),
    "--lr",
    String(arm.lr ?? b.lr),
    "--optimizer",
    b.optimizer,
    "--warmup-steps",
    String(b.warmup_steps),
    "--seed",
    String(b.seed),
    "--log-every",
    String(b.log_every),
    "--save-every",
    String(b.save_every),
  );
  if (inputs.curveVal !== null && inputs.curvePairs !== null) {
    args.push(
      "--val",
      inputs.curveVal,
      "--val-pairs",
      inputs.curvePairs,
      "--val-every",
      String(b.val_every),
    );
  }
  return args;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

interface RunInfo {
  adapter?: string;
  status?: string;
  sessions?: { seconds?: number; status?: string; error?: string }[];
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return null;
  }
}

/** Training images per second over the logged intervals (validation excluded, as train logs it). */
export function trainThroughput(entries: LogEntry[], batch: number): number | null {
  let images = 0, seconds = 0, prev = 0;
  for (const e of entries) {
    const n = (e.step - prev) * batch;
    prev = e.step;
    if (!(e.img_per_s > 0) || n <= 0) continue;
    images += n;
    seconds += n / e.img_per_s;
  }
  return seconds > 0 ? images / seconds : null;
}

export function curveOf(entries: LogEntry[]): CurvePoint[] {
  return entries.map((e) => {
    const p: CurvePoint = { step: e.step, loss: e.loss, theta_y_deg: e.theta_y_deg };
    if (e.val_acc !== undefined && e.val_acc !== null) p.val_acc = e.val_acc;
    return p;
  });
}

interface LfwMetrics {
  accuracy: { mean: number; std: number };
  roc: { auc: number; eer: number; tar_at_far: Record<string, { tar: number }> };
}

export function makeExecutor(
  budget: TrainBudget,
  inputs: Inputs,
  trainFileOf: (arm: Arm) => Promise<string>,
): ArmExecutor {
  return async (arm, dir) => {
    const runDir = `${dir}/run`;
    const trainFile = await trainFileOf(arm);
    const train = [...trainArgs(budget, arm, inputs, runDir), trainFile];
    const evalStages = [
      ["embed", "--model", `${runDir}/model.safetensors`, inputs.val],
      ["evaluate", "--protocol", "lfw", "--pairs", inputs.pairs, "--plot", `${dir}/roc.svg`],
    ];
    const commands = [formatCommand([train]), `${formatCommand(evalStages)} > ${dir}/metrics.json`];

    if (!(await exists(`${runDir}/model.safetensors`))) {
      let args = train;
      if ((await listCheckpoints(runDir)).length > 0) {
        args = ["train", "--resume", runDir, trainFile];
      } else await Deno.remove(runDir, { recursive: true }).catch(() => {});
      const started = performance.now();
      const r = await runPipeline([args]);
      if (!r.ok) {
        const wall = (performance.now() - started) / 1000;
        const info = await readJson<RunInfo>(`${runDir}/run.json`);
        const last = info?.sessions?.at(-1);
        if (info?.status === "failed" && /non-finite/.test(last?.error ?? "")) {
          return diverged(runDir, budget, info, last!.error!, commands, wall);
        }
        throw new InputError(
          `arm ${arm.id}: train failed (exit ${r.codes[0]}); see its messages above`,
          "rerun the experiment to retry it: finished arms are kept, this one resumes from its last checkpoint",
        );
      }
    }
    const t0 = performance.now();
    const r = await runPipeline(evalStages, { stdoutFile: `${dir}/metrics.json` });
    if (!r.ok) {
      throw new InputError(
        `arm ${arm.id}: embed | evaluate failed (exit codes ${
          r.codes.join(", ")
        }); see the messages above`,
        "rerun the experiment to retry the evaluation; if the model no longer loads (the code " +
          `changed since it was trained), delete ${dir} to train the arm again`,
      );
    }
    const evalSeconds = (performance.now() - t0) / 1000;
    const metrics = (await readJson<LfwMetrics>(`${dir}/metrics.json`))!;
    const info = await readJson<RunInfo>(`${runDir}/run.json`);
    const entries = await readLog(`${runDir}/train.log`);
    const last = entries.at(-1) ?? null;
    const tar: Record<string, number> = {};
    for (const [far, v] of Object.entries(metrics.roc.tar_at_far)) tar[far] = v.tar;
    return {
      status: "ok",
      accuracy: { mean: metrics.accuracy.mean, std: metrics.accuracy.std },
      auc: metrics.roc.auc,
      eer: metrics.roc.eer,
      tar_at_far: tar,
      final: last && {
        step: last.step,
        loss: last.loss,
        theta_y_deg: last.theta_y_deg,
        cos_nontarget: last.cos_nontarget,
      },
      steps: last?.step ?? budget.steps,
      train_seconds: trainSeconds(info),
      eval_seconds: evalSeconds,
      img_per_s: trainThroughput(entries, budget.batch),
      adapter: info?.adapter ?? null,
      curve: curveOf(entries),
      commands,
    };
  };
}

function trainSeconds(info: RunInfo | null): number {
  return (info?.sessions ?? []).reduce((a, s) => a + (s.seconds ?? 0), 0);
}

async function diverged(
  runDir: string,
  budget: TrainBudget,
  info: RunInfo,
  error: string,
  commands: string[],
  wallSeconds: number,
): Promise<Omit<ArmResult, "arm" | "settings_key" | "finished_at">> {
  const entries = await readLog(`${runDir}/train.log`);
  const last = entries.at(-1) ?? null;
  return {
    status: "diverged",
    error: error.split("\n")[0],
    accuracy: null,
    auc: null,
    eer: null,
    tar_at_far: {},
    final: last && {
      step: last.step,
      loss: last.loss,
      theta_y_deg: last.theta_y_deg,
      cos_nontarget: last.cos_nontarget,
    },
    steps: last?.step ?? 0,
    // A failed session records no duration: the process's wall time stands in.
    train_seconds: trainSeconds(info) + wallSeconds,
    eval_seconds: 0,
    img_per_s: trainThroughput(entries, budget.batch),
    adapter: info.adapter ?? null,
    curve: curveOf(entries),
    commands,
  };
}
