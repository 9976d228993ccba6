// An experiment's report folder from its arm results: report.md (tables, settings,
// environment, the commands to rerun it), results.json, commands.sh, and the plots in SVG
// and PNG. The tables and plot specs are pure functions of the results, so they are tested
// on made-up arms.
import { layoutPlot, type PlotSpec, type Series } from "../report/mod.ts";
import { PALETTE } from "../report/plot.ts";
import { duration, stackedPng, stackedSvg } from "../train/run_log.ts";
import { HEAD_NAMES } from "../train/heads.ts";
import { type Arm, armLabel, effectiveHyper, type ExperimentKind } from "./arms.ts";
import { commandsScript } from "./commands.ts";
import { describeEnvironment, type Environment } from "./env.ts";
import type { ArmResult } from "./result.ts";

export const TITLES: Record<ExperimentKind, string> = {
  heads: "P2SGrad against the cosine-softmax heads (same backbone, data, budget and seed)",
  noise: "Robustness to label noise: each head trained on partly mislabelled identities",
  sensitivity:
    "Hyper-parameter sensitivity: ArcFace and CosFace over s and m, P2SGrad's single run",
};

const pct = (x: number) => (100 * x).toFixed(2);
const accText = (r: ArmResult) =>
  r.accuracy ? `${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}` : "diverged";
const num = (x: number | null | undefined, digits: number) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
const tarText = (r: ArmResult, far: string) =>
  r.tar_at_far[far] === undefined ? "–" : pct(r.tar_at_far[far]);

function table(header: string[], rows: string[][], alignRight = true): string {
  const sep = header.map((_, i) => (i === 0 || !alignRight ? "---" : "---:"));
  return [header, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** The main results table of one experiment, as Markdown. */
export function resultsTable(kind: ExperimentKind, results: ArmResult[]): string {
  if (kind === "noise") return noiseTable(results);
  const header = [
    "arm",
    "s",
    "m",
    "accuracy %",
    "AUC",
    "TAR@FAR 1e-1 %",
    "TAR@FAR 1e-2 %",
    "TAR@FAR 1e-3 %",
    "final θy °",
    "final loss",
    "train time",
    "img/s",
  ];
  const rows = results.map((r) => {
    const { s, m } = effectiveHyper(r.arm);
    return [
      headCell(r.arm),
      s === null ? "–" : String(s),
      m === null ? "–" : String(m),
      accText(r),
      num(r.auc, 4),
      tarText(r, "1e-1"),
      tarText(r, "1e-2"),
      tarText(r, "1e-3"),
      num(r.final?.theta_y_deg, 1),
      num(r.final?.loss, 4),
      duration(r.train_seconds),
      num(r.img_per_s, 1),
    ];
  });
  return table(header, rows);
}

/** The head's name, with its own learning rate when --lr-for gave it one. */
const headCell = (a: Arm) => (a.lr !== null ? `${a.head} (lr ${a.lr})` : a.head);

/** Heads in the order of HEAD_NAMES that occur in `results`. */
function headsOf(results: ArmResult[]): string[] {
  const present = new Set(results.map((r) => r.arm.head as string));
  return HEAD_NAMES.filter((h) => present.has(h));
}

function noiseLevels(results: ArmResult[]): number[] {
  return [...new Set(results.map((r) => r.arm.noise))].sort((a, b) => a - b);
}

function noiseTable(results: ArmResult[]): string {
  const levels = noiseLevels(results);
  const find = (h: string, p: number) => results.find((r) => r.arm.head === h && r.arm.noise === p);
  const first = levels[0], lastLevel = levels[levels.length - 1];
  const header = [
    "head",
    ...levels.map((p) => `noise ${p}: accuracy %`),
    ...(levels.length > 1 ? [`change ${first} → ${lastLevel} (points)`] : []),
  ];
  const rows = headsOf(results).map((h) => {
    const any = results.find((r) => r.arm.head === h)!;
    const cells = levels.map((p) => {
      const r = find(h, p);
      return r ? accText(r) : "–";
    });
    if (levels.length > 1) {
      const a = find(h, first)?.accuracy, b = find(h, lastLevel)?.accuracy;
      cells.push(a && b ? (100 * (b.mean - a.mean)).toFixed(2) : "–");
    }
    return [headCell(any.arm), ...cells];
  });
  return table(header, rows);
}

/** Sensitivity: per head, the best, worst and spread of accuracy over its s/m grid. */
export function spreadTable(results: ArmResult[]): string {
  const rows = headsOf(results).map((h) => {
    const arms = results.filter((r) => r.arm.head === h);
    const ok = arms.filter((r) => r.accuracy).map((r) => r.accuracy!.mean);
    const best = ok.length ? Math.max(...ok) : NaN, worst = ok.length ? Math.min(...ok) : NaN;
    const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
    const std = Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / ok.length);
    const bestArm = arms.find((r) => r.accuracy?.mean === best);
    return [
      h,
      String(arms.length),
      String(arms.length - ok.length),
      ok.length ? pct(best) : "–",
      bestArm ? armLabel(bestArm.arm, false) : "–",
      ok.length ? pct(worst) : "–",
      ok.length ? (100 * (best - worst)).toFixed(2) : "–",
      ok.length ? (100 * std).toFixed(2) : "–",
    ];
  });
  return table(
    [
      "head",
      "runs",
      "diverged",
      "best accuracy %",
      "best setting",
      "worst accuracy %",
      "spread (points)",
      "std over runs (points)",
    ],
    rows,
  );
}

/** One figure of a report: a name (file stem) and its panels, stacked top to bottom. */
export interface Figure {
  name: string;
  caption: string;
  panels: PlotSpec[];
}

const colourOf = (head: string) => PALETTE[HEAD_NAMES.indexOf(head as typeof HEAD_NAMES[number])];

function curveSeries(
  results: ArmResult[],
  pick: (p: ArmResult["curve"][number]) => number | null | undefined,
): Series[] {
  return results.flatMap((r) => {
    const x: number[] = [], y: number[] = [];
    for (const p of r.curve) {
      const v = pick(p);
      if (v !== null && v !== undefined && Number.isFinite(v)) (x.push(p.step), y.push(v));
    }
    return x.length ? [{ name: armLabel(r.arm), x, y, color: colourOf(r.arm.head) }] : [];
  });
}

/** The figures of one experiment. */
export function figures(kind: ExperimentKind, results: ArmResult[]): Figure[] {
  if (kind === "heads") {
    const val = curveSeries(results, (p) => p.val_acc);
    for (const s of val) s.markers = true;
    const panels: PlotSpec[] = [];
    if (val.length) {
      panels.push({
        title: "validation accuracy on the pairs set",
        xLabel: "step",
        yLabel: "accuracy",
        series: val,
        yRange: legendRoom(val, "below", 0.05, [0, 1]),
        legend: "lower right",
      });
    }
    const theta = curveSeries(results, (p) => p.theta_y_deg);
    if (theta.length) {
      panels.push({
        title: "mean angle to the target class (theta_y)",
        xLabel: "step",
        yLabel: "degrees",
        series: theta,
        yRange: legendRoom(theta, "above", 5, [0, 180]),
        legend: "upper right",
      });
    }
    return panels.length
      ? [{
        name: "curves",
        caption: "Validation accuracy and θy against steps (each head one colour)",
        panels,
      }]
      : [];
  }
  if (kind === "noise") {
    const series: Series[] = headsOf(results).flatMap((h) => {
      const pts = results.filter((r) => r.arm.head === h && r.accuracy)
        .sort((a, b) => a.arm.noise - b.arm.noise);
      return pts.length
        ? [{
          name: h,
          x: pts.map((r) => r.arm.noise),
          y: pts.map((r) => r.accuracy!.mean),
          color: colourOf(h),
          markers: true,
        }]
        : [];
    });
    return series.length
      ? [{
        name: "noise",
        caption: "Pairs accuracy against the fraction of wrong training labels",
        panels: [{
          title: "accuracy against label noise",
          xLabel: "label noise (fraction of training images)",
          yLabel: "accuracy",
          series,
          yRange: roomBelow(series),
          legend: "lower left",
        }],
      }]
      : [];
  }
  // sensitivity: accuracy against m, one line per (head, s); P2SGrad as a flat reference.
  const grid = results.filter((r) => r.arm.head !== "p2sgrad" && r.accuracy);
  const groups = new Map<string, ArmResult[]>();
  for (const r of grid) {
    const key = `${r.arm.head} s ${effectiveHyper(r.arm).s}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const shade = new Map<string, number>();
  const series: Series[] = [...groups.entries()].map(([name, rs]) => {
    const head = rs[0].arm.head;
    const k = shade.get(head) ?? 0;
    shade.set(head, k + 1);
    rs.sort((a, b) => effectiveHyper(a.arm).m! - effectiveHyper(b.arm).m!);
    return {
      name,
      x: rs.map((r) => effectiveHyper(r.arm).m!),
      y: rs.map((r) => r.accuracy!.mean),
      color: PALETTE[(HEAD_NAMES.indexOf(head) + 3 * k) % PALETTE.length],
      dashed: k % 2 === 1,
      markers: true,
    };
  });
  const p2s = results.find((r) => r.arm.head === "p2sgrad" && r.accuracy);
  const ms = grid.map((r) => effectiveHyper(r.arm).m!);
  if (p2s && ms.length) {
    const acc = p2s.accuracy!.mean;
    series.push({
      name: "p2sgrad (no s, no m)",
      x: [Math.min(...ms), Math.max(...ms)],
      y: [acc, acc],
      color: "#000000",
      dashed: true,
    });
  }
  return series.length
    ? [{
      name: "sensitivity",
      caption:
        "Pairs accuracy of ArcFace and CosFace over margin m for each scale s; P2SGrad dashed",
      panels: [{
        title: "accuracy against margin m",
        xLabel: "margin m (ArcFace: radians; CosFace: cosine)",
        yLabel: "accuracy",
        series,
        yRange: roomBelow(series),
        legend: "lower left",
      }],
    }]
    : [];
}

/**
 * An axis range with empty space below (or above) the data where the legend goes, rounded
 * out to multiples of `step` and kept within `limits`.
 */
function legendRoom(
  series: Series[],
  where: "below" | "above",
  step: number,
  limits: [number, number],
): [number, number] {
  const ys = series.flatMap((s) => Array.from(s.y));
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const span = Math.max(hi - lo, step);
  // The legend takes about 8% of the plot's height per entry, plus its frame.
  const share = Math.min(0.65, 0.085 * series.length + 0.03);
  const room = (share * span) / (1 - share) + 0.6 * step;
  const down = (v: number) => Math.floor(v / step) * step,
    up = (v: number) => Math.ceil(v / step) * step;
  const a = where === "below" ? down(lo - room) : down(lo - 0.4 * step);
  const b = where === "above" ? up(hi + room) : up(hi + 0.4 * step);
  return [Math.max(limits[0], a), Math.min(limits[1], b)];
}

/** An accuracy axis with the legend's room below the lowest point. */
const roomBelow = (series: Series[]) => legendRoom(series, "below", 0.05, [0, 1]);

/** Writes `<name>.svg` and `<name>.png` for each figure into `dir`; returns the file stems. */
export async function writeFigures(dir: string, figs: Figure[]): Promise<string[]> {
  for (const f of figs) {
    const scenes = f.panels.map((p) => layoutPlot({ width: 720, height: 360, ...p }));
    await Deno.writeTextFile(`${dir}/${f.name}.svg`, stackedSvg(scenes));
    await Deno.writeFile(`${dir}/${f.name}.png`, await stackedPng(scenes));
  }
  return figs.map((f) => f.name);
}

export interface ReportInput {
  kind: ExperimentKind;
  /** The shared settings (data, budget, arms plan), as resolved. */
  settings: Record<string, unknown>;
  /** Human-readable lines describing the settings. */
  settingLines: string[];
  env: Environment;
  results: ArmResult[];
  /** The arms planned (results may hold fewer when the run stopped early). */
  arms: Arm[];
  /** The command line that reruns (or resumes) this experiment. */
  rerun: string;
  /** Commands that made the shared data. */
  dataCommands: string[];
  /** Absolute path of main.ts, for commands.sh. */
  mainPath: string;
}

/** report.md's text. */
export function renderReport(r: ReportInput, figureNames: Figure[]): string {
  const lines: string[] = [];
  lines.push(`# Experiment \`${r.kind}\``, "", TITLES[r.kind], "");
  const missing = r.arms.filter((a) => !r.results.some((x) => x.arm.id === a.id));
  if (missing.length) {
    lines.push(
      `**Incomplete:** ${missing.length} of ${r.arms.length} arms have no result yet (${
        missing.map((a) => a.id).join(", ")
      }). Rerun the command below to finish them; finished arms are kept.`,
      "",
    );
  }
  lines.push("## Results", "", resultsTable(r.kind, r.results), "");
  if (r.kind === "sensitivity") {
    lines.push(
      "How much each head depends on its hyper-parameters (P2SGrad has none: one run):",
      "",
      spreadTable(r.results),
      "",
    );
  }
  lines.push(
    "Accuracy: the LFW protocol on the pairs set (k-fold mean ± std, insightface's verification.py).",
    "TAR@FAR: all pairs pooled. θy: mean angle between a feature and its class weight at the last logged step.",
    "Train time: wall clock of `p2sgrad train` (including validation); img/s: training throughput without validation.",
  );
  const div = r.results.filter((x) => x.status === "diverged");
  if (div.length) {
    lines.push("", "Diverged arms (training stopped on a non-finite loss or gradient):", "");
    for (const d of div) lines.push(`- ${armLabel(d.arm)}: ${d.error ?? "non-finite values"}`);
  }
  lines.push("");
  if (figureNames.length) {
    lines.push("## Plots", "");
    for (const f of figureNames) {
      lines.push(`${f.caption} ([SVG](${f.name}.svg)):`, "", `![${f.caption}](${f.name}.png)`, "");
    }
  }
  lines.push("## Settings", "", ...r.settingLines.map((l) => `- ${l}`), "");
  lines.push("## Environment", "", `- ${describeEnvironment(r.env)}`);
  if (r.env.load) lines.push(`- load average at report time: ${r.env.load.join(", ")}`);
  lines.push(
    "- Timings depend on what else ran on the machine; compare them only between runs on the same machine.",
    "",
  );
  lines.push(
    "## Rerun",
    "",
    "The whole experiment (resumes: arms with a result.json are skipped):",
    "",
    "```sh",
    r.rerun,
    "```",
    "",
    "Each arm as stage commands (all of them in [commands.sh](commands.sh)):",
    "",
    "```sh",
    ...r.dataCommands,
    ...r.results.flatMap((x) => x.commands),
    "```",
    "",
  );
  return lines.join("\n");
}

/** Writes report.md, results.json, commands.sh and the figures into `dir`. */
export async function writeReport(dir: string, r: ReportInput): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const figs = figures(r.kind, r.results);
  await writeFigures(dir, figs);
  await Deno.writeTextFile(`${dir}/report.md`, renderReport(r, figs));
  await Deno.writeTextFile(
    `${dir}/results.json`,
    JSON.stringify(
      {
        experiment: r.kind,
        title: TITLES[r.kind],
        generated_at: new Date().toISOString(),
        settings: r.settings,
        environment: r.env,
        rerun: r.rerun,
        arms_planned: r.arms.map((a) => a.id),
        arms: r.results,
      },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(
    `${dir}/commands.sh`,
    commandsScript(
      `experiment ${r.kind}: the data, then each arm's training and evaluation`,
      [...r.dataCommands, ...r.results.flatMap((x) => x.commands)],
      r.mainPath,
    ),
  );
}
