// `deno task bench`: collects the throughput figures of every area by calling the exported
// functions of tasks/bench_*.ts (those that exist), into bench/results.json and
// bench/results.md with the adapter, CPU, cores, Deno version and git commit, appends the
// run to bench/history.ndjson and shows each figure's change against the last run that had it.
//
//   deno task bench [--quick] [--only align,kernels,...] [--out bench]
// Other work on the machine makes the timings noisy: the load average is recorded beside them.
import { parseArgs } from "@std/cli/parse-args";
import { type Environment, environment, loadAverage } from "../src/experiment/env.ts";

/** One figure: `higher` says whether a larger value is better (throughput) or worse (time). */
export interface Metric {
  area: string;
  name: string;
  value: number;
  unit: string;
  higher: boolean;
}

export interface AreaResult {
  area: string;
  status: "ok" | "skipped" | "failed";
  /** Why it was skipped or failed. */
  reason?: string;
  seconds: number;
  metrics: Metric[];
  /** What the area's function returned, as is. */
  raw?: unknown;
}

export interface BenchRun {
  generated_at: string;
  environment: Environment;
  options: { quick: boolean; only: string[] | null };
  /** Load average (1, 5, 15 min) before and after, when --allow-sys=loadavg is granted. */
  load?: { start: number[]; end: number[] };
  areas: AreaResult[];
}

interface Area {
  name: string;
  file: string;
  summary: string;
  run: (quick: boolean) => Promise<{ raw: unknown; metrics: Metric[] }>;
}

const m = (area: string, name: string, value: number, unit: string, higher: boolean): Metric => ({
  area,
  name,
  value,
  unit,
  higher,
});

/** The areas in the order they run; each imports its script only when it runs. */
export const AREAS: Area[] = [
  {
    name: "synthetic",
    file: "bench_synthetic.ts",
    summary: "synthetic face rendering and the prepare synthetic stage, images/s",
    async run(quick) {
      const { benchSynthetic } = await import("./bench_synthetic.ts");
      const raw = await benchSynthetic(
        quick ? { images: 300, sizes: [112], rounds: 1 } : {},
      );
      return {
        raw,
        metrics: raw.flatMap((f) => [
          m("synthetic", `${f.name} ${f.size}px`, f.imagesPerSecond, "images/s", true),
          m(
            "synthetic",
            `${f.name} ${f.size}px per CPU-second`,
            f.imagesPerCpuSecond,
            "images/CPU-s",
            true,
          ),
        ]),
      };
    },
  },
  {
    name: "align",
    file: "bench_align.ts",
    summary: "JPEG decode, 5-point warp and the align stage on LFW",
    async run(quick) {
      const { benchAlign } = await import("./bench_align.ts");
      const raw = await benchAlign(quick ? 500 : undefined);
      return {
        raw,
        metrics: [
          m("align", "JPEG decode", raw.decode_ms_per_image, "ms/image", false),
          m("align", "5-point warp 112×112", raw.warp_ms_per_face, "ms/face", false),
          m("align", "align stage, all of LFW", raw.stage_faces_per_s, "faces/s", true),
        ],
      };
    },
  },
  {
    name: "kernels",
    file: "bench_kernels.ts",
    summary: "matmul and conv2d kernels, GFLOP/s (best of repeats)",
    async run(quick) {
      const { benchKernels } = await import("./bench_kernels.ts");
      const raw = await benchKernels({ quick });
      return {
        raw,
        metrics: raw.map((f) =>
          m("kernels", `${f.kernel} ${f.shape}`, f.gflopsBest, "GFLOP/s", true)
        ),
      };
    },
  },
  {
    name: "layers",
    file: "bench_layers.ts",
    summary: "memory-bound layers (GB/s) and the cosine head step (GFLOP/s)",
    async run(quick) {
      const { benchLayers } = await import("./bench_layers.ts");
      const raw = await benchLayers(quick ? { reps: 1, skipHead: true } : {});
      return {
        raw,
        metrics: raw.map((f) => m("layers", `${f.name} ${f.shape}`, f.rate, f.unit, true)),
      };
    },
  },
  {
    name: "train_step",
    file: "bench_train_step.ts",
    summary: "training images/s per backbone, kernel time per kind, share outside kernels",
    async run(quick) {
      const { benchTrainStep } = await import("./bench_train_step.ts");
      const raw = await benchTrainStep(quick ? { backbones: ["resnet-lite"], steps: 3 } : {});
      return {
        raw,
        metrics: raw.flatMap((f) => {
          const tag = `${f.backbone} ${f.inputSize}px batch ${f.batch}`;
          return [
            m("train_step", `${tag}`, f.imagesPerSecond, "images/s", true),
            m("train_step", `${tag} share outside kernels`, 100 * f.outsideShare, "%", false),
            ...Object.entries(f.perKind).map(([kind, ms]) =>
              m("train_step", `${tag} kernels: ${kind}`, ms, "ms/step", false)
            ),
          ];
        }),
      };
    },
  },
  {
    name: "embed",
    file: "bench_embed.ts",
    summary: "embedding throughput per backbone, faces/s",
    async run(quick) {
      const { benchEmbed, EMBED_PLAN } = await import("./bench_embed.ts");
      const plan = quick ? [{ ...EMBED_PLAN[0], images: 256 }] : EMBED_PLAN;
      const raw = await benchEmbed(plan);
      return {
        raw,
        metrics: raw.map((f) =>
          m(
            "embed",
            `${f.backbone} ${f.inputSize}px batch ${f.batch}`,
            f.imagesPerSecond,
            "faces/s",
            true,
          )
        ),
      };
    },
  },
  {
    name: "eval",
    file: "bench_eval.ts",
    summary: "LFW 10-fold, IJB-C-sized template scoring, identification against distractors",
    async run(quick) {
      const { benchEval } = await import("./bench_eval.ts");
      const raw = await benchEval(quick ? { distractors: 4096, pairs: 1_000_000 } : {});
      return { raw, metrics: raw.map((f) => m("eval", f.name, f.seconds, "s", false)) };
    },
  },
];

async function exists(path: string | URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs the chosen areas one after another; a failing area is recorded and the rest go on. */
export async function collect(
  areas: Area[],
  quick: boolean,
  log: (line: string) => void,
): Promise<AreaResult[]> {
  const out: AreaResult[] = [];
  for (const a of areas) {
    if (!(await exists(new URL(`./${a.file}`, import.meta.url)))) {
      out.push({
        area: a.name,
        status: "skipped",
        reason: `tasks/${a.file} does not exist`,
        seconds: 0,
        metrics: [],
      });
      continue;
    }
    log(`\nbench ${a.name}: ${a.summary}${quick ? " (quick)" : ""}`);
    const t0 = performance.now();
    try {
      const { raw, metrics } = await a.run(quick);
      out.push({
        area: a.name,
        status: "ok",
        seconds: (performance.now() - t0) / 1000,
        metrics,
        raw,
      });
    } catch (err) {
      const reason = (err as Error).message ?? String(err);
      // Real data absent: a skip, not a failure (the scripts say which folder they need).
      const skipped = /needs .*shared\/data|P2SGRAD_DATA/.test(reason);
      log(`bench ${a.name}: ${skipped ? "skipped" : "FAILED"}: ${reason}`);
      out.push({
        area: a.name,
        status: skipped ? "skipped" : "failed",
        reason,
        seconds: (performance.now() - t0) / 1000,
        metrics: [],
      });
    }
  }
  return out;
}

const key = (x: Metric) => `${x.area}\u0000${x.name}\u0000${x.unit}`;

/** The last earlier value of each metric (newest run first), with when and where it was measured. */
export function previousValues(
  history: BenchRun[],
): Map<string, { value: number; at: string; commit: string | null }> {
  const prev = new Map<string, { value: number; at: string; commit: string | null }>();
  for (const run of [...history].reverse()) {
    for (const a of run.areas) {
      for (const x of a.metrics) {
        if (!prev.has(key(x))) {
          prev.set(key(x), {
            value: x.value,
            at: run.generated_at,
            commit: run.environment.commit,
          });
        }
      }
    }
  }
  return prev;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100
    ? v.toFixed(0)
    : a >= 10
    ? v.toFixed(1)
    : a >= 0.1
    ? v.toFixed(2)
    : v.toPrecision(2);
}

/** "+12.3% better" style change of `now` against `before` for a metric. */
export function change(now: number, before: number, higher: boolean): string {
  if (!(before !== 0 && Number.isFinite(before))) return "";
  const pct = (100 * (now - before)) / Math.abs(before);
  if (Math.abs(pct) < 0.05) return "±0%";
  const better = higher ? pct > 0 : pct < 0;
  return `${pct > 0 ? "+" : ""}${pct.toFixed(1)}% (${better ? "better" : "worse"})`;
}

/** results.md: environment, then one table per area with the change against the last run. */
export function renderMarkdown(run: BenchRun, history: BenchRun[]): string {
  const prev = previousValues(history);
  const e = run.environment;
  const lines = [
    "# p2sgrad benchmarks",
    "",
    `- run: ${run.generated_at}${run.options.quick ? " (--quick)" : ""}${
      run.options.only ? `, only ${run.options.only.join(", ")}` : ""
    }`,
    `- adapter: ${e.adapter ?? "unknown"}`,
    `- CPU: ${e.cpu} × ${e.cores} cores; ${e.os}`,
    `- Deno ${e.deno}, p2sgrad ${e.p2sgrad}, commit ${e.commit ?? "unknown"}${
      e.dirty ? " (with local changes)" : ""
    }`,
    `- load average at the start → end: ${
      run.load ? `${run.load.start.join(" ")} → ${run.load.end.join(" ")}` : "n/a"
    }`,
    "- The machine may be shared: compare figures only between quiet runs on the same machine.",
    "",
  ];
  for (const a of run.areas) {
    lines.push(`## ${a.area}`, "");
    if (a.status !== "ok") {
      lines.push(`${a.status}: ${a.reason}`, "");
      continue;
    }
    lines.push(
      `(${a.seconds.toFixed(0)} s)`,
      "",
      "| figure | value | unit | last run | change |",
      "|---|---:|---|---:|---|",
    );
    for (const x of a.metrics) {
      const p = prev.get(key(x));
      lines.push(
        `| ${x.name} | ${fmt(x.value)} | ${x.unit} | ${p ? fmt(p.value) : "–"} | ${
          p ? change(x.value, p.value, x.higher) : "new"
        } |`,
      );
    }
    lines.push("");
  }
  const last = history.at(-1);
  if (last) {
    lines.push(
      `Last run compared against: the newest earlier run holding each figure (latest: ${last.generated_at}, commit ${
        last.environment.commit?.slice(0, 10) ?? "unknown"
      }, adapter ${last.environment.adapter ?? "unknown"}).`,
      "",
    );
  }
  return lines.join("\n");
}

export async function readHistory(path: string): Promise<BenchRun[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return [];
  }
  const runs: BenchRun[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      runs.push(JSON.parse(line) as BenchRun);
    } catch {
      // A line cut short by a kill: skip it, keep the others.
    }
  }
  return runs;
}

const USAGE = `Usage: deno task bench [--quick] [--only ${
  AREAS.map((a) => a.name).join(",")
}] [--out DIR]

Runs the benchmark scripts of every area (tasks/bench_*.ts, those that exist) in-process
and writes DIR/results.json (figures, raw outputs, environment), DIR/results.md (tables with
the change against the last run) and appends to DIR/history.ndjson. The full run takes many
minutes; --quick runs a smaller set of each (minutes) for a smoke check.`;

async function main(args: string[]): Promise<number> {
  const a = parseArgs(args, { string: ["only", "out"], boolean: ["quick", "help"] }) as {
    only?: string;
    out?: string;
    quick: boolean;
    help: boolean;
    _: unknown[];
  };
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  const only = a.only ? a.only.split(",").map((s) => s.trim()).filter(Boolean) : null;
  const unknown = only?.filter((n) => !AREAS.some((x) => x.name === n)) ?? [];
  if (unknown.length) {
    console.error(`bench: unknown area ${unknown.join(", ")}\n\n${USAGE}`);
    return 2;
  }
  const out = a.out ?? "bench";
  const areas = only ? AREAS.filter((x) => only.includes(x.name)) : AREAS;
  const loadStart = await loadAverage();
  const { getGpu } = await import("../src/gpu/device.ts");
  const { operandForm } = await import("../src/gpu/operands.ts");
  // The operand form is measured per device (src/gpu/operands.ts): it sets the figures, not the bits.
  const adapter = await getGpu()
    .then(async (g) => `${g.adapterName}; operands read as ${await operandForm(g)}`)
    .catch(() => undefined);
  const env = await environment(adapter);
  console.error(
    `bench: ${areas.map((x) => x.name).join(", ")}${a.quick ? " (quick)" : ""} on ${
      adapter ?? "no adapter"
    }; ` +
      `load average ${loadStart?.join(" ") ?? "n/a"}`,
  );
  const results = await collect(areas, a.quick, (l) => console.error(l));
  const loadEnd = await loadAverage();
  const run: BenchRun = {
    generated_at: new Date().toISOString(),
    environment: env,
    options: { quick: a.quick, only },
    areas: results,
  };
  if (loadStart && loadEnd) run.load = { start: loadStart, end: loadEnd };
  await Deno.mkdir(out, { recursive: true });
  const history = await readHistory(`${out}/history.ndjson`);
  const md = renderMarkdown(run, history);
  await Deno.writeTextFile(`${out}/results.json`, JSON.stringify(run, null, 2) + "\n");
  await Deno.writeTextFile(`${out}/results.md`, md);
  // History keeps the figures, not the raw outputs (they are in results.json).
  const slim = { ...run, areas: run.areas.map(({ raw: _raw, ...rest }) => rest) };
  await Deno.writeTextFile(`${out}/history.ndjson`, JSON.stringify(slim) + "\n", { append: true });
  console.error("\n" + md);
  console.error(
    `bench: wrote ${out}/results.json, ${out}/results.md; appended ${out}/history.ndjson`,
  );
  return results.some((r) => r.status === "failed") ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
