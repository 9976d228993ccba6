// Arm bookkeeping: the arms of each experiment, stable ids, plan checks; runArms skips
// finished arms, resumes after a crash with only the unfinished ones, never leaves a
// half-written result, and refuses results made with other settings or damaged files.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { armLabel, DEFAULT_PLAN, effectiveHyper, experimentArms } from "../src/experiment/arms.ts";
import { readFinished, resultPath, runArms, settingsKey } from "../src/experiment/runner.ts";
import { InputError, UsageError } from "../src/cli/errors.ts";
import { recordingExecutor } from "./experiment_fakes.ts";

const plan = { ...DEFAULT_PLAN, heads: [...DEFAULT_PLAN.heads] };

Deno.test("experiment arms: heads, noise × heads, and the s/m grids with one p2sgrad run", () => {
  const heads = experimentArms("heads", plan);
  assertEquals(heads.map((a) => a.id), [
    "p2sgrad",
    "normface",
    "cosface",
    "arcface",
    "sphereface",
    "softmax",
  ]);
  const noise = experimentArms("noise", plan);
  assertEquals(noise.length, 6 * 4);
  assertEquals(noise.filter((a) => a.noise === 0.2).map((a) => a.head), plan.heads);
  assertEquals(noise.find((a) => a.head === "arcface" && a.noise === 0.4)?.id, "arcface-noise0.4");
  const sens = experimentArms("sensitivity", plan);
  assertEquals(sens.length, 1 + 3 * 3 + 3 * 3);
  assertEquals(sens[0].id, "p2sgrad");
  assertEquals(sens.filter((a) => a.head === "arcface").map((a) => a.id).slice(0, 3), [
    "arcface-s16-m0.2",
    "arcface-s16-m0.35",
    "arcface-s16-m0.5",
  ]);
  for (const arms of [heads, noise, sens]) {
    assertEquals(new Set(arms.map((a) => a.id)).size, arms.length, "ids are unique");
  }
  // Defaults are filled in for labels and tables; p2sgrad has no s or m at all.
  assertEquals(effectiveHyper(heads[3]), { s: 64, m: 0.5 });
  assertEquals(effectiveHyper(heads[0]), { s: null, m: null });
  assertEquals(
    armLabel(noise.find((a) => a.id === "cosface-noise0.1")!),
    "cosface (s 64, m 0.35), noise 0.1",
  );
});

Deno.test("experiment arms: --lr-for gives a head its own rate, in its id and label", () => {
  const arms = experimentArms("noise", {
    ...plan,
    heads: ["p2sgrad", "arcface"],
    noise: [0, 0.2],
    lrFor: { p2sgrad: 1 },
  });
  assertEquals(arms.map((a) => a.id), [
    "p2sgrad-lr1",
    "arcface",
    "p2sgrad-noise0.2-lr1",
    "arcface-noise0.2",
  ]);
  assertEquals(arms.map((a) => a.lr), [1, null, 1, null]);
  assertEquals(armLabel(arms[0]), "p2sgrad (lr 1)");
  // deno-lint-ignore no-explicit-any
  assertThrows(() => experimentArms("heads", { ...plan, lrFor: { bogus: 1 } as any }), UsageError);
  assertThrows(() => experimentArms("heads", { ...plan, lrFor: { p2sgrad: 0 } }), UsageError);
});

Deno.test("experiment arms: bad plans are usage errors that quote the value", () => {
  const bad = [
    { ...plan, heads: ["p2sgrad", "bogus"] },
    { ...plan, noise: [0, 1.5] },
    { ...plan, noise: [0.1, 0.1] },
    { ...plan, scales: [] },
    { ...plan, arcMargins: [2] },
  ];
  for (const p of bad) {
    // deno-lint-ignore no-explicit-any
    assertThrows(() => experimentArms("noise", p as any), UsageError);
  }
  const e = assertThrows(() => experimentArms("heads", { ...plan, heads: ["bogus" as "p2sgrad"] }));
  assert((e as Error).message.includes("'bogus'"));
});

Deno.test("runArms: runs every arm once, then a rerun skips all finished arms", async () => {
  const dir = await Deno.makeTempDir();
  const arms = experimentArms("heads", { ...plan, heads: ["p2sgrad", "arcface", "softmax"] });
  const first = recordingExecutor();
  const r1 = await runArms({ reportDir: dir, arms, settingsKey: "key1", execute: first.execute });
  assertEquals(first.ran, ["p2sgrad", "arcface", "softmax"]);
  assertEquals(r1.ran, first.ran);
  assertEquals(r1.results.map((r) => r.arm.id), first.ran);
  for (const a of arms) {
    const saved = JSON.parse(await Deno.readTextFile(resultPath(dir, a)));
    assertEquals([saved.arm.id, saved.settings_key, saved.status], [a.id, "key1", "ok"]);
  }
  const again = recordingExecutor();
  const lines: string[] = [];
  const r2 = await runArms({
    reportDir: dir,
    arms,
    settingsKey: "key1",
    execute: again.execute,
    log: (l) => Promise.resolve(void lines.push(l)),
  });
  assertEquals(again.ran, [], "nothing rerun");
  assertEquals(r2.skipped, ["p2sgrad", "arcface", "softmax"]);
  assertEquals(r2.results.map((r) => r.accuracy?.mean), r1.results.map((r) => r.accuracy?.mean));
  assert(lines.some((l) => l.includes("3 of 3 arms already finished")), lines.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runArms: a crash keeps the finished arms; the rerun runs only the rest", async () => {
  const dir = await Deno.makeTempDir();
  const arms = experimentArms("heads", {
    ...plan,
    heads: ["p2sgrad", "cosface", "normface", "softmax"],
  });
  const crashing = recordingExecutor("normface");
  await assertRejects(
    () => runArms({ reportDir: dir, arms, settingsKey: "k", execute: crashing.execute }),
    Error,
    "simulated crash",
  );
  assertEquals(crashing.ran, ["p2sgrad", "cosface", "normface"]);
  assertEquals(await readFinished(dir, arms[2], "k"), null, "the crashed arm has no result");
  // No temporary or partial result file is left beside the finished ones.
  for (const a of arms.slice(0, 2)) {
    const names = [...Deno.readDirSync(`${dir}/arms/${a.id}`)].map((e) => e.name);
    assertEquals(names, ["result.json"]);
  }
  const resumed = recordingExecutor();
  const r = await runArms({ reportDir: dir, arms, settingsKey: "k", execute: resumed.execute });
  assertEquals(resumed.ran, ["normface", "softmax"]);
  assertEquals(r.skipped, ["p2sgrad", "cosface"]);
  assertEquals(r.results.map((x) => x.arm.id), arms.map((a) => a.id), "results in arm order");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("runArms: results from other settings, or damaged, are refused with a hint", async () => {
  const dir = await Deno.makeTempDir();
  const arms = experimentArms("heads", { ...plan, heads: ["p2sgrad"] });
  await runArms({ reportDir: dir, arms, settingsKey: "old", execute: recordingExecutor().execute });
  const other = recordingExecutor();
  const err = await assertRejects(
    () => runArms({ reportDir: dir, arms, settingsKey: "new", execute: other.execute }),
    InputError,
  );
  assert(err.message.includes("other settings") && err.message.includes("--out"), err.message);
  assertEquals(other.ran, []);
  await Deno.writeTextFile(resultPath(dir, arms[0]), '{"arm": {"id": "p2sgrad"}, "trunc');
  const bad = await assertRejects(() => readFinished(dir, arms[0], "old"), InputError);
  assert(bad.message.includes("not JSON") && bad.message.includes(`delete ${dir}/arms/p2sgrad`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("settingsKey: canonical (key order does not matter), changes with any value", async () => {
  const a = await settingsKey({ data: { n: 1, size: 64 }, budget: { steps: 10 } });
  const b = await settingsKey({ budget: { steps: 10 }, data: { size: 64, n: 1 } });
  const c = await settingsKey({ budget: { steps: 11 }, data: { size: 64, n: 1 } });
  assertEquals(a, b);
  assert(a !== c);
  assertEquals(a.length, 64);
});
