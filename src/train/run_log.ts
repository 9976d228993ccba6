// What a researcher watches in a run folder: `train.log` (NDJSON, one object per logged
// step), its one-line rendering for stderr, and `curves.svg`/`curves.png` (loss, target
// angle and validation accuracy against steps) drawn with src/report/.
import { layoutPlot, type PlotSpec, type Scene } from "../report/plot.ts";
import { encodePngRgba } from "../image/png.ts";
import { rasterize } from "../report/raster.ts";
import { sceneToSvg } from "../report/svg.ts";

/** One line of train.log. */
export interface LogEntry {
  /** Steps completed. */
  step: number;
  /** Epochs completed (fractional). */
  epoch: number;
  /** The head's batch-mean loss (p2sgrad: ½Σ_j(cos θ_ij − δ_ij)²; others: cross-entropy). */
  loss: number;
  /** Mean angle between each feature and its class weight, degrees (null for softmax). */
  theta_y_deg: number | null;
  /** Mean cosine to the other classes' weights (null for softmax). */
  cos_nontarget: number | null;
  /** Frobenius norm of dL/d(features) over the batch. */
  grad_norm_features: number;
  /** Global gradient norm over every trained parameter (what --clip-grad compares). */
  grad_norm: number;
  lr: number;
  /** Training images per second since the previous log line. */
  img_per_s: number;
  /** LFW-style pairs accuracy of the current model on --val, when validation ran at this step. */
  val_acc?: number;
  val_std?: number;
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** NaN and ±Infinity become null in JSON; keep the NDJSON line valid and say so. */
export function entryJson(e: LogEntry): string {
  return JSON.stringify(e, (_k, v) => (typeof v === "number" ? finiteOrNull(v) : v));
}

/** The entries of a train.log (missing file: none); lines after `upTo` steps are dropped. */
export async function readLog(path: string, upTo = Infinity): Promise<LogEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: LogEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const e = JSON.parse(line) as LogEntry;
      if (e.step <= upTo) out.push(e);
    } catch {
      // A line cut short by a kill: the entries before it still count.
    }
  }
  return out;
}

/** Appends NDJSON lines to train.log as they come (each line one write, so a kill loses at most one). */
export class TrainLog {
  readonly #file: Deno.FsFile;
  readonly #enc = new TextEncoder();
  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }
  /** Opens `path`, keeping the entries up to `keepUpTo` steps (a resumed run drops the lines past its checkpoint). */
  static async open(path: string, keepUpTo: number): Promise<TrainLog> {
    const kept = keepUpTo > 0 ? await readLog(path, keepUpTo) : [];
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const log = new TrainLog(file);
    for (const e of kept) await log.append(e);
    return log;
  }
  async append(e: LogEntry): Promise<void> {
    const bytes = this.#enc.encode(entryJson(e) + "\n");
    let at = 0;
    while (at < bytes.length) at += await this.#file.write(bytes.subarray(at));
  }
  close(): void {
    this.#file.close();
  }
}

const fmt = (v: number | null | undefined, digits: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);

/** One line for stderr with the figures of `e`. */
export function progressLine(e: LogEntry, total: number, etaSeconds: number | null): string {
  const parts = [
    `step ${e.step}/${total}`,
    `ep ${e.epoch.toFixed(2)}`,
    `loss ${fmt(e.loss, 4)}`,
    `θy ${fmt(e.theta_y_deg, 1)}°`,
    `cos_nt ${fmt(e.cos_nontarget, 3)}`,
    `|gx| ${e.grad_norm_features.toPrecision(3)}`,
    `lr ${e.lr.toPrecision(3)}`,
    `${Math.round(e.img_per_s)} img/s`,
  ];
  if (e.val_acc !== undefined) parts.push(`val ${(100 * e.val_acc).toFixed(2)}%`);
  if (etaSeconds !== null && Number.isFinite(etaSeconds)) parts.push(`eta ${duration(etaSeconds)}`);
  return parts.join("  ");
}

/** A fixed-width text bar for the terminal progress line: `[########------] 57%`. */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${"#".repeat(full)}${"-".repeat(width - full)}] ${
    String(Math.floor(f * 100)).padStart(3)
  }%`;
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** The three panels of curves.svg/png: loss, θ_y, validation accuracy (each only when it has data). */
export function curvePlots(entries: LogEntry[], title: string): PlotSpec[] {
  const steps = entries.map((e) => e.step);
  const pick = (f: (e: LogEntry) => number | null | undefined) => {
    const x: number[] = [], y: number[] = [];
    entries.forEach((e, i) => {
      const v = f(e);
      if (v !== null && v !== undefined && Number.isFinite(v)) (x.push(steps[i]), y.push(v));
    });
    return { x, y };
  };
  const specs: PlotSpec[] = [];
  const common = { xLabel: "step", width: 640, height: 300, legend: "none" as const };
  const loss = pick((e) => e.loss);
  if (loss.x.length > 0) {
    specs.push({
      ...common,
      title: `${title}: training loss`,
      yLabel: "loss",
      series: [{ name: "loss", ...loss }],
    });
  }
  const theta = pick((e) => e.theta_y_deg);
  if (theta.x.length > 0) {
    specs.push({
      ...common,
      title: "mean angle to the target class, theta_y",
      yLabel: "degrees",
      series: [{ name: "theta_y", ...theta, color: "#f28e2b" }],
    });
  }
  const val = pick((e) => e.val_acc);
  if (val.x.length > 0) {
    specs.push({
      ...common,
      title: "validation accuracy (pairs, 10-fold)",
      yLabel: "accuracy",
      series: [{ name: "val", ...val, color: "#59a14f", markers: true }],
    });
  }
  return specs;
}

/** Panels stacked top to bottom as one SVG (each panel's clip path renamed so they stay apart). */
export function stackedSvg(scenes: Scene[]): string {
  const width = Math.max(...scenes.map((s) => s.width));
  const height = scenes.reduce((a, s) => a + s.height, 0);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  let y = 0;
  scenes.forEach((s, i) => {
    const inner = sceneToSvg(s)
      .replace(/^<svg [^>]*>/, `<svg x="0" y="${y}" width="${s.width}" height="${s.height}">`)
      .replaceAll('id="area"', `id="area${i}"`)
      .replaceAll("url(#area)", `url(#area${i})`);
    parts.push(inner.trimEnd());
    y += s.height;
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** Panels stacked top to bottom as one PNG, drawn at `scale` × their CSS size. */
export function stackedPng(scenes: Scene[], scale = 2): Promise<Uint8Array> {
  const rasters = scenes.map((s) => rasterize(s, scale));
  const width = Math.max(...rasters.map((r) => r.width));
  const height = rasters.reduce((a, r) => a + r.height, 0);
  const rgba = new Uint8Array(width * height * 4).fill(255);
  let top = 0;
  for (const r of rasters) {
    for (let row = 0; row < r.height; row++) {
      rgba.set(
        r.rgba.subarray(row * r.width * 4, (row + 1) * r.width * 4),
        ((top + row) * width) * 4,
      );
    }
    top += r.height;
  }
  return encodePngRgba(width, height, rgba);
}

/** Writes `curves.svg` and `curves.png` into the run folder from its train.log entries. */
export async function writeCurves(
  runDir: string,
  entries: LogEntry[],
  title: string,
): Promise<void> {
  const specs = curvePlots(entries, title);
  if (specs.length === 0) return;
  const scenes = specs.map(layoutPlot);
  await Deno.writeTextFile(`${runDir}/curves.svg`, stackedSvg(scenes));
  await Deno.writeFile(`${runDir}/curves.png`, await stackedPng(scenes));
}
