// The demo's wiring (which stage feeds which, which files connect the commands) for the
// synthetic and LFW plans, the message when the real data is absent, and a --tiny run of
// tasks/demo.ts as a process with the deno.json task's permissions (writes only to its
// report folder) that must leave a complete report folder.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { DEMO_SIZES, findDemoData, lfwPlan, syntheticPlan } from "../src/experiment/demo.ts";
import { formatPipeline } from "../src/experiment/commands.ts";
import { openRecordStream } from "../src/format/stream.ts";
import { InputError } from "../src/cli/errors.ts";
import { hasGpu } from "./helpers/compare.ts";

const gpuMissing = !(await hasGpu());
const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("demo plan (synthetic): prepare | align | train, then embed | tee | evaluate on the held-out faces", () => {
  const p = syntheticPlan("report/demo", DEMO_SIZES.default);
  const [held, train, evaluation, png] = p.steps;
  const gen = held.stages[0].slice(4, held.stages[0].indexOf("--pairs-out"));
  assertEquals(held.stages[0].slice(0, 4), ["prepare", "synthetic", "--split", "pairs"]);
  assertEquals(held.stages[1], ["align", "--size", "64"]);
  assertEquals(held.stdoutFile, "report/demo/data/pairs.faces.arrow");
  // Training sees the other identities of the same generator, aligned the same way.
  assertEquals(train.stages.map((s) => s[0]), ["prepare", "align", "train"]);
  assertEquals(train.stages[0], ["prepare", "synthetic", "--split", "train", ...gen]);
  assertEquals(train.stages[1], held.stages[1]);
  const t = train.stages[2];
  const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
  assertEquals(flag(t, "--out"), "report/demo/run");
  assertEquals(flag(t, "--val"), held.stdoutFile);
  assertEquals(flag(t, "--val-pairs"), "report/demo/data/pairs.txt");
  assertEquals(flag(held.stages[0], "--pairs-out"), "report/demo/data/pairs.txt");
  // Evaluation: the trained model on the held-out faces, scored on the pairs made with them.
  assertEquals(evaluation.stages[0], [
    "embed",
    "--model",
    "report/demo/run/model.safetensors",
    held.stdoutFile!,
  ]);
  assertEquals(flag(evaluation.stages[1], "--pairs"), "report/demo/data/pairs.txt");
  assertEquals(flag(evaluation.stages[1], "--plot"), "report/demo/roc.svg");
  assertEquals(evaluation.stdoutFile, p.metrics);
  assertEquals(
    png.stages[0].at(-1),
    evaluation.tee!.file,
    "the PNG comes from the kept embeddings",
  );
  assertEquals(
    formatPipeline(evaluation.stages, evaluation),
    "p2sgrad embed --model report/demo/run/model.safetensors report/demo/data/pairs.faces.arrow | " +
      "tee report/demo/data/embeddings.arrow | p2sgrad evaluate --protocol lfw --pairs report/demo/data/pairs.txt " +
      "--name 'resnet-lite + p2sgrad' --plot report/demo/roc.svg --table > report/demo/metrics.json",
  );
});

Deno.test("demo plan (lfw): CelebA list resized to 64 px for training, LFW aligned with landmarks, View 2 pairs", () => {
  const p = lfwPlan("report/demo-lfw", "/data", null);
  const [lfw, train, evaluation] = p.steps;
  assertEquals(lfw.stages, [
    ["prepare", "/data/lfw", "--landmarks", "/data/lfw/lfw_landmark_150px.txt"],
    ["align", "--size", "64"],
  ]);
  assertEquals(train.stages, [
    ["prepare", "/data/celeba_subset_112x112/train_list.txt"],
    ["align", "--mode", "resize", "--size", "64"],
    ["train", "--out", "report/demo-lfw/run"],
  ]);
  assertEquals(evaluation.stages[1].slice(0, 5), [
    "evaluate",
    "--protocol",
    "lfw",
    "--pairs",
    "/data/lfw/pairs.txt",
  ]);
  assertEquals(lfwPlan("o", "/data", 300).steps[1].stages[2], [
    "train",
    "--out",
    "o/run",
    "--steps",
    "300",
  ]);
});

Deno.test("demo:lfw without the data: a message naming what is missing and what to do", async () => {
  const empty = await Deno.makeTempDir();
  const e = await assertRejects(() => findDemoData(empty), InputError);
  assertStringIncludes(e.message, empty);
  assertStringIncludes(e.message, "celeba_subset_112x112/train_list.txt");
  assertStringIncludes(e.message, "--data DIR or set P2SGRAD_DATA");
  assertStringIncludes(e.message, "`deno task demo` needs no data");
  await Deno.remove(empty);
});

Deno.test({
  name: "deno task demo --tiny: stage processes end to end, with the task's narrow permissions",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/report/demo`;
    // The demo task's flags, with --allow-write narrowed to this test's folder.
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        `--allow-write=${dir}/report`,
        "--allow-env",
        "--allow-run",
        "--allow-sys=cpus,loadavg",
        `${ROOT}tasks/demo.ts`,
        "--tiny",
        "--out",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const r = await cmd.output();
    const stderr = new TextDecoder().decode(r.stderr), stdout = new TextDecoder().decode(r.stdout);
    assertEquals(r.code, 0, stderr);
    assertStringIncludes(stdout, "p2sgrad demo (synthetic) done:");
    assert(/accuracy \d+\.\d\d ± \d+\.\d\d %/.test(stdout), stdout);
    assertStringIncludes(stderr, "demo 2/4: training");
    assertStringIncludes(stderr, "train: done, 4 steps");
    for (
      const f of [
        "report.md",
        "metrics.json",
        "summary.json",
        "train.log",
        "curves.svg",
        "curves.png",
        "roc.svg",
        "roc.png",
        "commands.sh",
        "run/model.safetensors",
      ]
    ) {
      assert((await Deno.stat(`${out}/${f}`)).size > 0, `${f} written`);
    }
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    const metrics = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assertEquals(summary.accuracy, metrics.accuracy);
    assertEquals(summary.steps, 4);
    assertEquals(summary.commands.length, 4);
    // The tee'd embeddings are a complete stream: one row per held-out face (20 × 3).
    const f = await Deno.open(`${out}/data/embeddings.arrow`);
    let rows = 0;
    for await (const b of (await openRecordStream(f.readable, "embeddings")).batches()) {
      rows += b.length;
    }
    assertEquals(rows, 60);
    const md = await Deno.readTextFile(`${out}/report.md`);
    assertStringIncludes(md, "![ROC](roc.png)");
    assertStringIncludes(md, "| p2sgrad align --size 32 | p2sgrad train --out");
    await Deno.remove(dir, { recursive: true });
  },
});
