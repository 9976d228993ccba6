// Report writing from made-up arm results: the tables (heads, noise pivot, sensitivity
// spread), the plot series, and the report folder (report.md, results.json, commands.sh,
// SVG and PNG plots) including an unfinished experiment.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { DEFAULT_PLAN, experimentArms } from "../src/experiment/arms.ts";
import {
  figures,
  renderReport,
  resultsTable,
  spreadTable,
  writeReport,
} from "../src/experiment/report.ts";
import type { Environment } from "../src/experiment/env.ts";
import { fakeResult } from "./experiment_fakes.ts";

const plan = { ...DEFAULT_PLAN, heads: [...DEFAULT_PLAN.heads] };
const env: Environment = {
  p2sgrad: "0.1.0",
  deno: "2.9.6",
  os: "linux x86_64",
  cpu: "Test CPU",
  cores: 2,
  commit: "0123456789abcdef",
  dirty: false,
  adapter: "fake adapter",
};

/** The Markdown table's body rows as cells. */
function rows(md: string): string[][] {
  return md.split("\n").slice(2).map((l) => l.split("|").slice(1, -1).map((c) => c.trim()));
}

Deno.test("heads table: one row per arm with defaults filled in, diverged arms marked", () => {
  const arms = experimentArms("heads", plan);
  const results = arms.map((a) => fakeResult(a));
  results[4] = { ...results[4], status: "diverged", accuracy: null, tar_at_far: {}, auc: null };
  const t = rows(resultsTable("heads", results));
  assertEquals(t.map((r) => r[0]), plan.heads);
  const arc = t.find((r) => r[0] === "arcface")!;
  assertEquals([arc[1], arc[2], arc[3]], ["64", "0.5", "88.00 ± 1.00"]);
  assertEquals(arc[6], "68.00", "TAR@1e-2 in percent");
  const p2s = t.find((r) => r[0] === "p2sgrad")!;
  assertEquals([p2s[1], p2s[2]], ["–", "–"], "p2sgrad has no s and no m");
  assertEquals(t[4][3], "diverged");
  assertEquals(t.find((r) => r[0] === "softmax")![8], "–", "softmax has no θy");
});

Deno.test("tables name a head's own learning rate", () => {
  const arms = experimentArms("heads", {
    ...plan,
    heads: ["p2sgrad", "softmax"],
    lrFor: { p2sgrad: 2 },
  });
  const t = rows(resultsTable("heads", arms.map((a) => fakeResult(a))));
  assertEquals(t.map((r) => r[0]), ["p2sgrad (lr 2)", "softmax"]);
  const noise = experimentArms("noise", {
    ...plan,
    heads: ["p2sgrad"],
    noise: [0, 0.1],
    lrFor: { p2sgrad: 2 },
  });
  assertEquals(
    rows(resultsTable("noise", noise.map((a) => fakeResult(a))))[0][0],
    "p2sgrad (lr 2)",
  );
});

Deno.test("noise table: heads × levels with the change from clean to the noisiest", () => {
  const arms = experimentArms("noise", plan);
  const t = rows(resultsTable("noise", arms.map((a) => fakeResult(a))));
  assertEquals(t.length, 6);
  const p2s = t.find((r) => r[0] === "p2sgrad")!;
  assertEquals(p2s.slice(1), [
    "90.00 ± 1.00",
    "87.00 ± 1.00",
    "84.00 ± 1.00",
    "78.00 ± 1.00",
    "-12.00",
  ]);
  const sphere = t.find((r) => r[0] === "sphereface")!;
  assertEquals(sphere[4], "diverged");
  assertEquals(sphere[5], "–", "no change figure without a noisy result");
});

Deno.test("sensitivity: spread per head over its grid; p2sgrad is one run with no spread", () => {
  const arms = experimentArms("sensitivity", plan);
  const t = rows(spreadTable(arms.map((a) => fakeResult(a))));
  const arc = t.find((r) => r[0] === "arcface")!;
  // fakeAccuracy: 0.88 − 0.01·m − 0.0001·s over s ∈ {16,32,64}, m ∈ {0.2,0.35,0.5}.
  const best = 0.88 - 0.002 - 0.0016, worst = 0.88 - 0.005 - 0.0064;
  assertEquals(arc.slice(1, 4), ["9", "0", (100 * best).toFixed(2)]);
  assertEquals(arc[4], "arcface (s 16, m 0.2)");
  assertEquals(arc[5], (100 * worst).toFixed(2));
  assertEquals(arc[6], (100 * (best - worst)).toFixed(2));
  const p2s = t.find((r) => r[0] === "p2sgrad")!;
  assertEquals([p2s[1], p2s[6], p2s[7]], ["1", "0.00", "0.00"]);
});

Deno.test("figures: curves per head, accuracy against noise, accuracy against m with p2sgrad flat", () => {
  const heads = figures("heads", experimentArms("heads", plan).map((a) => fakeResult(a)));
  assertEquals(heads.map((f) => f.name), ["curves"]);
  const [val, theta] = heads[0].panels;
  assertEquals(val.series.length, 6);
  assertEquals(Array.from(val.series[0].x), [5, 10]);
  assertEquals(theta.series.length, 5, "softmax has no θy curve");

  const noise = figures("noise", experimentArms("noise", plan).map((a) => fakeResult(a)))[0];
  const p2s = noise.panels[0].series.find((s) => s.name === "p2sgrad")!;
  assertEquals(Array.from(p2s.x), [0, 0.1, 0.2, 0.4]);
  const sphere = noise.panels[0].series.find((s) => s.name === "sphereface")!;
  assertEquals(Array.from(sphere.x), [0, 0.1, 0.2], "the diverged point is left out");

  const sens =
    figures("sensitivity", experimentArms("sensitivity", plan).map((a) => fakeResult(a)))[0];
  const names = sens.panels[0].series.map((s) => s.name);
  assertEquals(names, [
    "arcface s 16",
    "arcface s 32",
    "arcface s 64",
    "cosface s 16",
    "cosface s 32",
    "cosface s 64",
    "p2sgrad (no s, no m)",
  ]);
  const flat = sens.panels[0].series[6];
  assertEquals(Array.from(flat.y), [0.9, 0.9]);
  assertEquals(Array.from(flat.x), [0.1, 0.5], "spans the margins of the grid");
});

Deno.test("writeReport: report.md, results.json, commands.sh and SVG + PNG plots; unfinished arms named", async () => {
  const dir = await Deno.makeTempDir();
  const arms = experimentArms("heads", { ...plan, heads: ["p2sgrad", "arcface", "softmax"] });
  const results = arms.slice(0, 2).map((a) => fakeResult(a));
  await writeReport(dir, {
    kind: "heads",
    settings: { budget: { steps: 10 } },
    settingLines: ["budget: 10 steps"],
    env,
    results,
    arms,
    rerun: "p2sgrad experiment heads --steps 10",
    dataCommands: [
      "p2sgrad prepare synthetic --split train | p2sgrad align --size 32 > data/train.faces.arrow",
    ],
    mainPath: "/x/main.ts",
  });
  const md = await Deno.readTextFile(`${dir}/report.md`);
  assertStringIncludes(md, "1 of 3 arms have no result yet (softmax)");
  assertStringIncludes(md, "| p2sgrad |");
  assertStringIncludes(md, "![Validation accuracy");
  assertStringIncludes(md, "p2sgrad experiment heads --steps 10");
  assertStringIncludes(md, "Test CPU × 2 cores");
  assertStringIncludes(md, "0123456789");
  const json = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  assertEquals(json.arms.map((r: { arm: { id: string } }) => r.arm.id), ["p2sgrad", "arcface"]);
  assertEquals(json.arms_planned, ["p2sgrad", "arcface", "softmax"]);
  assertEquals(json.environment.cpu, "Test CPU");
  const sh = await Deno.readTextFile(`${dir}/commands.sh`);
  assert(sh.startsWith("#!/bin/sh"));
  assertStringIncludes(sh, "P2SGRAD_MAIN=/x/main.ts");
  assertStringIncludes(sh, "p2sgrad train --out arms/arcface/run --head arcface");
  const svg = await Deno.readTextFile(`${dir}/curves.svg`);
  assert(svg.startsWith("<svg") && svg.includes("arcface (s 64, m 0.5)"));
  const png = await Deno.readFile(`${dir}/curves.png`);
  assertEquals(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("renderReport: diverged arms are listed with train's reason", () => {
  const arms = experimentArms("noise", { ...plan, heads: ["sphereface"], noise: [0, 0.4] });
  const md = renderReport({
    kind: "noise",
    settings: {},
    settingLines: [],
    env,
    results: arms.map((a) => fakeResult(a)),
    arms,
    rerun: "x",
    dataCommands: [],
    mainPath: "/x/main.ts",
  }, []);
  assertStringIncludes(
    md,
    "- sphereface (s 64, m 4), noise 0.4: step 7 (of 10 run so far): non-finite",
  );
});
