// The run folder's human-facing files without a GPU: train.log lines (non-finite values as
// null, a line cut short by a kill ignored, entries past a resumed checkpoint dropped), the
// progress line and bar, and the stacked curves (SVG clip paths kept apart, a PNG).
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  curvePlots,
  entryJson,
  type LogEntry,
  progressBar,
  progressLine,
  readLog,
  stackedSvg,
  TrainLog,
  writeCurves,
} from "../src/train/run_log.ts";
import { layoutPlot } from "../src/report/plot.ts";

const entry = (step: number, extra: Partial<LogEntry> = {}): LogEntry => ({
  step,
  epoch: step / 10,
  loss: 1 / step,
  theta_y_deg: 90 - step,
  cos_nontarget: 0.01,
  grad_norm_features: 0.5,
  grad_norm: 2,
  lr: 0.1,
  img_per_s: 100,
  ...extra,
});

Deno.test("train.log: NaN becomes null, a cut line is skipped, a resume keeps the lines up to its step", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/train.log`;
  assertEquals(JSON.parse(entryJson(entry(3, { loss: NaN }))).loss, null);
  const log = await TrainLog.open(path, 0);
  for (const s of [2, 4, 6]) await log.append(entry(s));
  log.close();
  await Deno.writeTextFile(path, '{"step": 8, "loss', { append: true }); // killed mid-line
  assertEquals((await readLog(path)).map((e) => e.step), [2, 4, 6]);
  const resumed = await TrainLog.open(path, 4);
  await resumed.append(entry(5));
  resumed.close();
  assertEquals((await readLog(path)).map((e) => e.step), [2, 4, 5]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("progress line and bar", () => {
  assertEquals(progressBar(0.5, 10), "[#####-----]  50%");
  assertEquals(progressBar(2, 4), "[####] 100%");
  const line = progressLine(entry(20, { val_acc: 0.9123, theta_y_deg: null }), 100, 75);
  assertStringIncludes(line, "step 20/100");
  assertStringIncludes(line, "θy n/a");
  assertStringIncludes(line, "val 91.23%");
  assertStringIncludes(line, "eta 1m15s");
});

Deno.test("curves: one panel per available series, stacked with separate clip paths, SVG and PNG", async () => {
  const entries = [entry(10), entry(20, { val_acc: 0.8 }), entry(30, { val_acc: 0.85 })];
  assertEquals(curvePlots(entries, "t").length, 3);
  assertEquals(curvePlots(entries.map((e) => ({ ...e, theta_y_deg: null })), "t").length, 2);
  const svg = stackedSvg(curvePlots(entries, "t").map(layoutPlot));
  for (const i of [0, 1, 2]) assertStringIncludes(svg, `id="area${i}"`);
  assert(!svg.includes('url(#area)"'));
  const dir = await Deno.makeTempDir();
  await writeCurves(dir, entries, "t");
  const png = await Deno.readFile(`${dir}/curves.png`);
  assertEquals(Array.from(png.subarray(1, 4)), [80, 78, 71]); // "PNG"
  await Deno.remove(dir, { recursive: true });
});
