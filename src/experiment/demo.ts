// The main job (`deno task demo`): faces → align → train → embed → evaluate as real stage
// processes joined by pipes, on the built-in synthetic faces (or CelebA → LFW with
// `demo:lfw`), then a short summary and a report folder. The plan (which commands, which
// files) is data, so a test checks the wiring and a --tiny run checks that it works.
import { InputError } from "../cli/errors.ts";
import { readLog } from "../train/run_log.ts";
import { runPipeline } from "../util/pipeline.ts";
import { commandsScript, formatPipeline } from "./commands.ts";
import { findDataRoot } from "./data.ts";
import { describeEnvironment, environment } from "./env.ts";
import { trainThroughput } from "./execute.ts";

/** One command of the demo: stages joined by pipes, optional input and output files. */
export interface DemoStep {
  title: string;
  stages: string[][];
  stdinFile?: string;
  stdoutFile?: string;
  /** Also keep what stage `after` writes (`| tee FILE |`). */
  tee?: { after: number; file: string };
}

export interface DemoPlan {
  mode: "synthetic" | "lfw";
  out: string;
  steps: DemoStep[];
  /** Files the summary reads. */
  runDir: string;
  metrics: string;
  /** Words for report.md: what the data is. */
  dataLine: string;
  batch: number;
}

/** Sizes of the synthetic demo. The default fits in well under 10 minutes on 2 CPU cores. */
export interface SyntheticDemoSize {
  identities: number;
  perIdentity: number;
  renderSize: number;
  size: number;
  steps: number;
  batch: number;
  valEvery: number;
}

export const DEMO_SIZES: Record<"default" | "tiny", SyntheticDemoSize> = {
  // 120 training identities × 12 images; 40 held-out identities for the pairs.
  default: {
    identities: 160,
    perIdentity: 12,
    renderSize: 112,
    size: 64,
    steps: 150,
    batch: 64,
    valEvery: 50,
  },
  // Seconds, for the test of the wiring: 60 training identities × 3 at 32 px.
  tiny: {
    identities: 80,
    perIdentity: 3,
    renderSize: 48,
    size: 32,
    steps: 4,
    batch: 16,
    valEvery: 2,
  },
};

/** The synthetic demo's commands, in order. */
export function syntheticPlan(out: string, z: SyntheticDemoSize): DemoPlan {
  const runDir = `${out}/run`, pairs = `${out}/data/pairs.txt`;
  const faces = `${out}/data/pairs.faces.arrow`;
  const gen = [
    "--identities",
    String(z.identities),
    "--per-identity",
    String(z.perIdentity),
    "--size",
    String(z.renderSize),
  ];
  const align = ["align", "--size", String(z.size)];
  return {
    mode: "synthetic",
    out,
    runDir,
    metrics: `${out}/metrics.json`,
    batch: z.batch,
    dataLine:
      `synthetic faces (seeded 3-D heads): ${z.identities} identities × ${z.perIdentity} images rendered at ${z.renderSize} px and aligned to ${z.size} px; ` +
      `${Math.round(z.identities * 0.75)} identities train, the other ${
        z.identities - Math.round(z.identities * 0.75)
      } are held out for the verification pairs`,
    steps: [
      {
        // The held-out faces first: training validates on them, and the pairs file exists
        // before any reader of it starts.
        title: "held-out identities and their pairs",
        stages: [["prepare", "synthetic", "--split", "pairs", ...gen, "--pairs-out", pairs], align],
        stdoutFile: faces,
      },
      {
        title: "training",
        stages: [
          ["prepare", "synthetic", "--split", "train", ...gen],
          align,
          [
            "train",
            "--out",
            runDir,
            "--steps",
            String(z.steps),
            "--batch",
            String(z.batch),
            "--val",
            faces,
            "--val-pairs",
            pairs,
            "--val-every",
            String(z.valEvery),
          ],
        ],
      },
      ...evaluation("embedding and evaluation", faces, runDir, pairs, out),
    ],
  };
}

/** Embed | tee | evaluate (the SVG ROC and metrics), then the PNG ROC from the kept embeddings. */
function evaluation(
  title: string,
  faces: string,
  runDir: string,
  pairs: string,
  out: string,
): DemoStep[] {
  const embeddings = `${out}/data/embeddings.arrow`;
  const evaluate = ["evaluate", "--protocol", "lfw", "--pairs", pairs];
  const name = "resnet-lite + p2sgrad";
  return [
    {
      title,
      stages: [
        ["embed", "--model", `${runDir}/model.safetensors`, faces],
        [...evaluate, "--name", name, "--plot", `${out}/roc.svg`, "--table"],
      ],
      tee: { after: 0, file: embeddings },
      stdoutFile: `${out}/metrics.json`,
    },
    // evaluate draws one plot file per run; scoring the kept embeddings again takes a second.
    {
      title: "ROC as PNG",
      stages: [[...evaluate, "--name", name, "--plot", `${out}/roc.png`, embeddings]],
    },
  ];
}

/** CelebA subset → LFW View 2, with train's default budget unless `steps` is given. */
export function lfwPlan(out: string, root: string, steps: number | null): DemoPlan {
  const runDir = `${out}/run`, faces = `${out}/data/lfw.faces.arrow`;
  const pairs = `${root}/lfw/pairs.txt`;
  const train = ["train", "--out", runDir];
  if (steps !== null) train.push("--steps", String(steps));
  return {
    mode: "lfw",
    out,
    runDir,
    metrics: `${out}/metrics.json`,
    batch: 64,
    dataLine:
      `training: ${root}/celeba_subset_112x112 (resized to 64 px); evaluation: LFW View 2 (${pairs}), aligned to 64 px with the 150 px landmarks`,
    steps: [
      {
        title: "LFW faces",
        stages: [
          ["prepare", `${root}/lfw`, "--landmarks", `${root}/lfw/lfw_landmark_150px.txt`],
          ["align", "--size", "64"],
        ],
        stdoutFile: faces,
      },
      {
        title: "training on the CelebA subset",
        stages: [
          ["prepare", `${root}/celeba_subset_112x112/train_list.txt`],
          ["align", "--mode", "resize", "--size", "64"],
          train,
        ],
      },
      ...evaluation("embedding and evaluation on LFW View 2", faces, runDir, pairs, out),
    ],
  };
}

/** The data folder for demo:lfw: --data, else $P2SGRAD_DATA, else ../shared/data. */
export function findDemoData(given: string | undefined): Promise<string> {
  return findDataRoot(given, "demo:lfw (`deno task demo` needs no data)");
}

/** Removes what an earlier demo left in `out` (only the demo's own files and folders). */
async function clearOutputs(out: string): Promise<void> {
  for (
    const name of [
      "run",
      "data",
      "report.md",
      "metrics.json",
      "summary.json",
      "train.log",
      "curves.svg",
      "curves.png",
      "roc.svg",
      "roc.png",
      "commands.sh",
    ]
  ) {
    await Deno.remove(`${out}/${name}`, { recursive: true }).catch(() => {});
  }
}

export interface DemoSummary {
  mode: "synthetic" | "lfw";
  accuracy: { mean: number; std: number };
  auc: number;
  tar_at_far: Record<string, number>;
  pairs: number;
  train_seconds: number;
  steps: number;
  img_per_s: number | null;
  final: { loss: number; theta_y_deg: number | null } | null;
  total_seconds: number;
  step_seconds: { title: string; seconds: number }[];
}

/** Runs the plan; returns the summary (and writes the report folder). */
export async function runDemo(
  plan: DemoPlan,
  log: (line: string) => Promise<void>,
  mainPath: string,
): Promise<DemoSummary> {
  const started = performance.now();
  await Deno.mkdir(`${plan.out}/data`, { recursive: true });
  await clearOutputs(plan.out);
  await Deno.mkdir(`${plan.out}/data`, { recursive: true });
  const stepSeconds: { title: string; seconds: number }[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const cmd = formatPipeline(step.stages, step);
    await log(`\ndemo ${i + 1}/${plan.steps.length}: ${step.title}\n  $ ${cmd}`);
    const t0 = performance.now();
    const r = await runPipeline(step.stages, step);
    if (!r.ok) {
      const failed = r.codes.map((c, k) => (c !== 0 ? `${step.stages[k][0]} (exit ${c})` : ""))
        .filter(Boolean).join(", ");
      throw new InputError(
        `demo step '${step.title}' failed: ${failed}; the messages above say why`,
        "fix the cause and run the demo again (it starts over)",
      );
    }
    stepSeconds.push({ title: step.title, seconds: (performance.now() - t0) / 1000 });
  }
  const summary = await summarise(plan, stepSeconds, (performance.now() - started) / 1000);
  await writeDemoReport(plan, summary, mainPath);
  return summary;
}

interface Metrics {
  accuracy: { mean: number; std: number };
  roc: { auc: number; tar_at_far: Record<string, { tar: number }> };
  counts: { pairs: number };
}

async function summarise(
  plan: DemoPlan,
  stepSeconds: DemoSummary["step_seconds"],
  total: number,
): Promise<DemoSummary> {
  const m = JSON.parse(await Deno.readTextFile(plan.metrics)) as Metrics;
  const run = JSON.parse(await Deno.readTextFile(`${plan.runDir}/run.json`)) as {
    sessions: { seconds?: number }[];
  };
  const entries = await readLog(`${plan.runDir}/train.log`);
  const last = entries.at(-1);
  const tar: Record<string, number> = {};
  for (const [far, v] of Object.entries(m.roc.tar_at_far)) tar[far] = v.tar;
  return {
    mode: plan.mode,
    accuracy: m.accuracy,
    auc: m.roc.auc,
    tar_at_far: tar,
    pairs: m.counts.pairs,
    train_seconds: run.sessions.reduce((a, s) => a + (s.seconds ?? 0), 0),
    steps: last?.step ?? 0,
    img_per_s: trainThroughput(entries, plan.batch),
    final: last ? { loss: last.loss, theta_y_deg: last.theta_y_deg } : null,
    total_seconds: total,
    step_seconds: stepSeconds,
  };
}

const pct = (x: number) => (100 * x).toFixed(2);

function minutes(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** The few lines printed at the end (and at the top of report.md). */
export function summaryLines(s: DemoSummary): string[] {
  const tars = Object.entries(s.tar_at_far).map(([far, t]) => `${pct(t)} % at FAR ${far}`);
  return [
    `accuracy ${pct(s.accuracy.mean)} ± ${
      pct(s.accuracy.std)
    } % on ${s.pairs} pairs (10-fold), AUC ${s.auc.toFixed(4)}`,
    `TAR ${tars.join(", ")}`,
    `training: ${s.steps} steps in ${minutes(s.train_seconds)}` +
    (s.img_per_s ? `, ${s.img_per_s.toFixed(1)} images/s` : "") +
    (s.final
      ? `; final loss ${s.final.loss.toFixed(4)}` +
        (s.final.theta_y_deg !== null ? `, θy ${s.final.theta_y_deg.toFixed(1)}°` : "")
      : ""),
    `whole demo: ${minutes(s.total_seconds)} (${
      s.step_seconds.map((x) => `${x.title} ${minutes(x.seconds)}`).join("; ")
    })`,
  ];
}

async function copyIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await Deno.copyFile(from, to);
    return true;
  } catch {
    return false;
  }
}

async function writeDemoReport(plan: DemoPlan, s: DemoSummary, mainPath: string): Promise<void> {
  const out = plan.out;
  const env = await environment(await adapterOf(plan.runDir));
  await copyIfPresent(`${plan.runDir}/train.log`, `${out}/train.log`);
  const curves = await copyIfPresent(`${plan.runDir}/curves.svg`, `${out}/curves.svg`) &&
    await copyIfPresent(`${plan.runDir}/curves.png`, `${out}/curves.png`);
  const commands = plan.steps.map((st) => formatPipeline(st.stages, st));
  await Deno.writeTextFile(
    `${out}/commands.sh`,
    commandsScript(`p2sgrad demo (${plan.mode}): the exact commands it ran`, commands, mainPath),
  );
  await Deno.writeTextFile(
    `${out}/summary.json`,
    JSON.stringify({ ...s, environment: env, commands }, null, 2) + "\n",
  );
  const md = [
    `# p2sgrad demo (${plan.mode === "lfw" ? "CelebA subset → LFW" : "synthetic faces"})`,
    "",
    "Faces → align → train (ResNet-lite + P2SGrad on WebGPU) → embed → evaluate, each stage a process joined by pipes.",
    "",
    "## Summary",
    "",
    ...summaryLines(s).map((l) => `- ${l}`),
    "",
    "## Plots",
    "",
    ...(curves
      ? [
        "Training curves: loss, θy and validation accuracy against steps ([SVG](curves.svg)):",
        "",
        "![training curves](curves.png)",
        "",
      ]
      : []),
    "ROC on the verification pairs ([SVG](roc.svg)):",
    "",
    "![ROC](roc.png)",
    "",
    "## Files",
    "",
    "- `metrics.json`: evaluate's output (accuracy per fold, thresholds, AUC, EER, TAR@FAR)",
    "- `summary.json`: the figures above, step timings and the environment",
    "- `train.log`: NDJSON, one line per logged step; `run/`: the run folder (config.json, run.json, checkpoints, model.safetensors)",
    "- `commands.sh`: the exact commands, runnable",
    "",
    "## Data and environment",
    "",
    `- ${plan.dataLine}`,
    `- ${describeEnvironment(env)}`,
    ...(env.load ? [`- load average at the end: ${env.load.join(", ")}`] : []),
    "- Timings depend on what else ran on the machine.",
    "",
    "## Commands",
    "",
    "```sh",
    ...commands,
    "```",
    "",
  ];
  await Deno.writeTextFile(`${out}/report.md`, md.join("\n"));
}

async function adapterOf(runDir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await Deno.readTextFile(`${runDir}/run.json`)) as { adapter?: string })
      .adapter;
  } catch {
    return undefined;
  }
}
