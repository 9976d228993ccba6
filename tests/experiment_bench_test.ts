// The benchmark collector's bookkeeping: areas that fail are recorded while the others run,
// missing data or scripts are skips, each figure is compared with the newest earlier run
// holding it (better/worse by the figure's direction), and a cut-short history line is skipped.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  AREAS,
  type BenchRun,
  change,
  collect,
  type Metric,
  previousValues,
  readHistory,
  renderMarkdown,
} from "../tasks/bench.ts";

const env = {
  p2sgrad: "0.1.0",
  deno: "2.9.6",
  os: "linux x86_64",
  cpu: "Test CPU",
  cores: 2,
  commit: "abc",
  dirty: false,
  adapter: "fake",
};

function run(at: string, metrics: Metric[], commit = "abc"): BenchRun {
  return {
    generated_at: at,
    environment: { ...env, commit },
    options: { quick: false, only: null },
    areas: [{ area: "embed", status: "ok", seconds: 1, metrics }],
  };
}

const fig = (name: string, value: number, higher = true): Metric => ({
  area: "embed",
  name,
  value,
  unit: higher ? "faces/s" : "s",
  higher,
});

Deno.test("bench areas: every tasks/bench_*.ts of the brief has an adapter, run in a fixed order", () => {
  assertEquals(AREAS.map((a) => a.name), [
    "synthetic",
    "align",
    "kernels",
    "layers",
    "train_step",
    "embed",
    "eval",
  ]);
  for (const a of AREAS) assert(/^bench_[a-z_]+\.ts$/.test(a.file), a.file);
});

Deno.test("collect: a failure is recorded and the next area still runs; missing data or script is a skip", async () => {
  const ok = {
    name: "embed",
    file: "bench_embed.ts",
    summary: "",
    run: () => Promise.resolve({ raw: [1], metrics: [fig("a", 5)] }),
  };
  const boom = {
    name: "eval",
    file: "bench_eval.ts",
    summary: "",
    run: () => Promise.reject(new Error("device lost")),
  };
  const noData = {
    name: "align",
    file: "bench_align.ts",
    summary: "",
    run: () =>
      Promise.reject(new Error("tasks/bench_align.ts needs ../shared/data/lfw (or P2SGRAD_DATA)")),
  };
  const noFile = { ...ok, name: "ghost", file: "bench_ghost.ts" };
  const lines: string[] = [];
  const r = await collect([boom, noData, noFile, ok], false, (l) => void lines.push(l));
  assertEquals(r.map((x) => [x.area, x.status]), [
    ["eval", "failed"],
    ["align", "skipped"],
    ["ghost", "skipped"],
    ["embed", "ok"],
  ]);
  assertEquals(r[0].reason, "device lost");
  assertStringIncludes(r[2].reason!, "tasks/bench_ghost.ts does not exist");
  assertEquals(r[3].metrics, [fig("a", 5)]);
  assert(lines.some((l) => l.includes("FAILED: device lost")));
});

Deno.test("previousValues: the newest earlier value of each figure, even from older runs", () => {
  const history = [
    run("t1", [fig("a", 10), fig("b", 1, false)], "c1"),
    run("t2", [fig("a", 12)], "c2"),
  ];
  const prev = previousValues(history);
  assertEquals(prev.get("embed\u0000a\u0000faces/s"), { value: 12, at: "t2", commit: "c2" });
  assertEquals(prev.get("embed\u0000b\u0000s"), { value: 1, at: "t1", commit: "c1" });
});

Deno.test("change: direction-aware (throughput up is better, seconds up is worse)", () => {
  assertEquals(change(110, 100, true), "+10.0% (better)");
  assertEquals(change(90, 100, true), "-10.0% (worse)");
  assertEquals(change(1.2, 1, false), "+20.0% (worse)");
  assertEquals(change(0.5, 1, false), "-50.0% (better)");
  assertEquals(change(100, 100, true), "±0%");
  assertEquals(change(5, 0, true), "");
});

Deno.test("renderMarkdown: environment, a table per area with the last run's value and the change", () => {
  const now = run("t3", [fig("a", 15), fig("c", 3)]);
  now.areas.push({
    area: "align",
    status: "skipped",
    reason: "needs data",
    seconds: 0,
    metrics: [],
  });
  now.load = { start: [1, 2, 3], end: [4, 5, 6] };
  const md = renderMarkdown(now, [run("t2", [fig("a", 12)])]);
  assertStringIncludes(md, "- adapter: fake");
  assertStringIncludes(md, "- CPU: Test CPU × 2 cores");
  assertStringIncludes(md, "1 2 3 → 4 5 6");
  assertStringIncludes(md, "| a | 15.0 | faces/s | 12.0 | +25.0% (better) |");
  assertStringIncludes(md, "| c | 3.00 | faces/s | – | new |");
  assertStringIncludes(md, "## align\n\nskipped: needs data");
});

Deno.test("readHistory: runs in order, a line cut short is skipped, no file is no history", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.ndjson`;
  assertEquals(await readHistory(path), []);
  await Deno.writeTextFile(
    path,
    JSON.stringify(run("t1", [])) + "\n" + JSON.stringify(run("t2", [])) + "\n" +
      '{"generated_at": "t3", "envi',
  );
  assertEquals((await readHistory(path)).map((r) => r.generated_at), ["t1", "t2"]);
  await Deno.remove(dir, { recursive: true });
});
