// A tiny `p2sgrad experiment noise` end to end through main(): synthetic data made by real
// prepare | align processes, two heads × two noise levels trained and evaluated as stage
// processes, the report folder written; a rerun trains nothing; an arm whose result was
// lost is evaluated again without retraining, and one cut short resumes from its checkpoint.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { openRecordStream } from "../src/format/stream.ts";

const gpuMissing = !(await hasGpu());

const ARGS = [
  "experiment",
  "noise",
  "--heads",
  "p2sgrad,softmax",
  "--noise",
  "0,0.25",
  "--identities",
  "80",
  "--per-identity",
  "3",
  "--render-size",
  "48",
  "--size",
  "32",
  "--steps",
  "3",
  "--batch",
  "16",
];

async function modified(path: string): Promise<number> {
  return (await Deno.stat(path)).mtime!.getTime();
}

Deno.test({
  name: "experiment noise, tiny: 4 arms as processes, report written, resumable per arm",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/exp`;
    const first = await runStage([...ARGS, "--out", out]);
    assertEquals(first.code, 0, first.stderr);
    const ids = ["p2sgrad", "softmax", "p2sgrad-noise0.25", "softmax-noise0.25"];
    const json = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals(json.arms.map((r: { arm: { id: string } }) => r.arm.id), ids);
    for (const r of json.arms) {
      assertEquals(r.status, "ok", JSON.stringify(r));
      assert(r.accuracy.mean > 0 && r.accuracy.mean <= 1, `accuracy ${r.accuracy.mean}`);
      assertEquals(r.steps, 3);
      assert(r.curve.some((p: { val_acc?: number }) => p.val_acc !== undefined), "validation ran");
      assertEquals(r.adapter, json.environment.adapter);
    }
    // The noisy arms trained on the noisy copy: 60 training identities × 3 images, 45 flipped.
    const noisy = await Deno.open(`${out}/data/train.noise0.25.faces.arrow`);
    let flipped = 0;
    for await (const r of (await openRecordStream(noisy.readable, "faces")).records()) {
      if (r.label !== r.cleanLabel) flipped++;
    }
    assertEquals(flipped, 45);
    assertStringIncludes(first.stderr, "labels replaced (noise 0.25)");
    const md = await Deno.readTextFile(`${out}/report.md`);
    assertStringIncludes(md, "| p2sgrad |");
    assertStringIncludes(md, "experiment noise --out");
    for (const f of ["noise.svg", "noise.png", "commands.sh", "arms/softmax/roc.svg"]) {
      assert((await Deno.stat(`${out}/${f}`)).size > 0, f);
    }

    // A rerun finds every arm finished and trains nothing.
    const stamp = await modified(`${out}/arms/p2sgrad/result.json`);
    const again = await runStage([...ARGS, "--out", out]);
    assertEquals(again.code, 0, again.stderr);
    assertStringIncludes(again.stderr, "4 of 4 arms already finished");
    assert(!again.stderr.includes("arm 1/4"), again.stderr);
    assertEquals(await modified(`${out}/arms/p2sgrad/result.json`), stamp);

    // Lost result, model kept: evaluated again, not retrained (the model file is untouched).
    const model = `${out}/arms/softmax/run/model.safetensors`;
    const modelStamp = await modified(model);
    await Deno.remove(`${out}/arms/softmax/result.json`);
    // Cut short after its last checkpoint: no model, no result → train --resume.
    await Deno.remove(`${out}/arms/p2sgrad-noise0.25/result.json`);
    await Deno.remove(`${out}/arms/p2sgrad-noise0.25/run/model.safetensors`);
    const resumed = await runStage([...ARGS, "--out", out]);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertStringIncludes(resumed.stderr, "2 of 4 arms already finished");
    assertStringIncludes(resumed.stderr, "arm 2/4: softmax");
    assertStringIncludes(resumed.stderr, "arm 3/4: p2sgrad-noise0.25");
    assertEquals(await modified(model), modelStamp, "softmax was not retrained");
    const run = JSON.parse(await Deno.readTextFile(`${out}/arms/p2sgrad-noise0.25/run/run.json`));
    assertEquals(run.sessions.length, 2, "the cut-short arm resumed in its run folder");
    const json2 = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    assertEquals(json2.arms[1].accuracy, json.arms[1].accuracy, "same model, same evaluation");

    // Other settings in the same folder are refused before anything runs.
    const clash = await runStage([...ARGS, "--out", out, "--steps", "4"]);
    assertEquals(clash.code, 1);
    assertStringIncludes(clash.stderr, "other settings");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("experiment: usage errors exit 2 before any work", async () => {
  for (
    const args of [
      ["experiment"],
      ["experiment", "bogus"],
      ["experiment", "heads", "--heads", "p2sgrad,nope"],
      ["experiment", "heads", "--train", "x.arrow"],
      ["experiment", "noise", "--noise", "0,abc"],
      ["experiment", "heads", "--lr-for", "p2sgrad"],
      ["experiment", "heads", "--lr-for", "p2sgrad=1,p2sgrad=2"],
      ["experiment", "heads", "--optimizer", "adam"],
      ["experiment", "heads", "--class-weights", "frozen"],
    ]
  ) {
    const r = await runStage(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, "Usage: p2sgrad experiment");
  }
});

Deno.test("experiment --report-only: flags resolve into arms and a report without training", async () => {
  const dir = await Deno.makeTempDir();
  const r = await runStage([
    "experiment",
    "heads",
    "--heads",
    "p2sgrad,arcface",
    "--lr-for",
    "p2sgrad=1",
    "--steps",
    "7",
    "--optimizer",
    "adamw",
    "--class-weights",
    "fixed",
    "--embedding-dim",
    "64",
    "--report-only",
    "--out",
    dir,
  ]);
  assertEquals(r.code, 0, r.stderr);
  assertStringIncludes(r.stderr, "0 of 2 arms reported");
  const md = await Deno.readTextFile(`${dir}/report.md`);
  assertStringIncludes(md, "2 of 2 arms have no result yet (p2sgrad-lr1, arcface)");
  assertStringIncludes(md, "AdamW lr 0.1 (own rates: p2sgrad 1)");
  assertStringIncludes(md, "embedding 64-d, fixed class weights; 7 steps");
  assertStringIncludes(
    md,
    "--embedding-dim 64 --class-weights fixed --steps 7 --batch 64 --lr 0.1 --optimizer adamw",
  );
  assertStringIncludes(md, "--heads p2sgrad,arcface --lr-for p2sgrad=1");
  await Deno.remove(dir, { recursive: true });
});
