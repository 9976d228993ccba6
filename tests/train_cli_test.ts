// p2sgrad train through main(): settings resolution (base ← --config ← flags), the run
// folder's files, and the errors that must come before any GPU work (empty stream, one
// identity, batch larger than the data, an existing run, changed settings on --resume).
import {
  assert,
  assertAlmostEquals,
  assertEquals,
  assertMatch,
  assertStringIncludes,
} from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { toyFacesStream } from "../src/train/toy_faces.ts";
import { BASE_CONFIG } from "../src/train/config.ts";
import { decodeSafetensors } from "../src/format/safetensors.ts";

const gpuMissing = !(await hasGpu());
const TOY = { identities: 4, perIdentity: 8, size: 16 };
const SMALL = ["--embedding-dim", "16", "--batch", "8"];

Deno.test("errors before any work: empty stream, one identity, batch above the data, missing --out", async () => {
  const dir = await Deno.makeTempDir();
  const empty = await toyFacesStream({ ...TOY, identities: 0 });
  let r = await runStage(["train", "--out", `${dir}/a`, ...SMALL], empty);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "the faces stream is empty");
  // Refused before training: the run folder it created is gone again.
  assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);

  const one = await toyFacesStream({ ...TOY, labelOf: () => 0 });
  r = await runStage(["train", "--out", `${dir}/b`, ...SMALL], one);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "one identity");

  const toy = await toyFacesStream(TOY);
  r = await runStage(["train", "--out", `${dir}/c`, "--batch", "64"], toy);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "--batch 64 is larger than the dataset's 32 faces");

  r = await runStage(["train", ...SMALL], toy);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "--out RUN_DIR is required");

  r = await runStage(["train", "--out", `${dir}/d`, "--head", "p2sgrad", "--scale", "30"], toy);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "head p2sgrad has no scale");

  r = await runStage(["train", "--out", `${dir}/e`, "--backbone", "resnet-huge"], toy);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "unknown backbone 'resnet-huge'");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "a batch whose activations exceed the adapter's binding is refused, naming the --grad-accum that fits",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    // 64 faces at 112 px: iresnet50 holds 64×64×112×112 floats (205 MiB) in its first layer.
    const big = await toyFacesStream({ identities: 8, perIdentity: 8, size: 112 });
    const args = ["train", "--out", `${dir}/a`, "--backbone", "iresnet50", "--batch", "64"];
    const r = await runStage(args, big);
    assertEquals(r.code, 1, r.stderr);
    assertMatch(r.stderr, /batch 64: iresnet50 at 112 px fits at most (\d+) images per pass/);
    const fits = Number(r.stderr.match(/fits at most (\d+)/)![1]);
    const parts = Number(r.stderr.match(/add --grad-accum (\d+)/)![1]);
    assert(64 % parts === 0 && 64 / parts <= fits && 64 / (parts / 2) > fits, r.stderr);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("--config: unknown keys and bad JSON are usage errors naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = `${dir}/cfg.json`;
  await Deno.writeTextFile(cfg, JSON.stringify({ learning_rate: 0.1 }));
  let r = await runStage(["train", "--out", `${dir}/a`, "--config", cfg], new Uint8Array());
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, `${cfg}: unknown setting 'learning_rate'`);
  await Deno.writeTextFile(cfg, "{ lr: 0.1 ");
  r = await runStage(["train", "--out", `${dir}/a`, "--config", cfg], new Uint8Array());
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "not JSON");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "a run folder: config.json (file ← flags), run.json, train.log fields, curves, model metadata; no second run in it",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const cfg = `${dir}/cfg.json`;
    await Deno.writeTextFile(
      cfg,
      JSON.stringify({ lr: 0.05, "weight-decay": 1e-4, steps: 50, log_every: 2 }),
    );
    const toy = await toyFacesStream(TOY);
    const run = `${dir}/run`;
    const r = await runStage(
      [
        "train",
        "-o",
        run,
        "--config",
        cfg,
        "--steps",
        "4",
        "--no-flip",
        "--seed",
        "3",
        "--schedule",
        "step",
        "--milestones",
        "0.25,0.5",
        ...SMALL,
      ],
      toy,
    );
    assertEquals(r.code, 0, r.stderr);
    const config = JSON.parse(await Deno.readTextFile(`${run}/config.json`));
    // The file set lr, weight decay, steps and log_every; the flags override steps.
    assertEquals(
      [config.lr, config.weight_decay, config.steps, config.log_every, config.flip, config.seed],
      [0.05, 1e-4, 4, 2, false, 3],
    );
    assertEquals([config.schedule, config.milestones], ["step", [0.25, 0.5]]);
    assertEquals(config.backbone, BASE_CONFIG.backbone);
    assertEquals(config.embedding_dim, 16);

    const info = JSON.parse(await Deno.readTextFile(`${run}/run.json`));
    assertEquals([info.status, info.input.rows, info.input.classes, info.steps_planned], [
      "finished",
      32,
      4,
      4,
    ]);
    assertMatch(info.input.checksum, /^[0-9a-f]{64}$/);
    assert(typeof info.adapter === "string" && info.adapter.length > 0);
    assertEquals(info.deno, Deno.version.deno);

    const lines = (await Deno.readTextFile(`${run}/train.log`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(lines.map((l) => l.step), [2, 4]);
    for (
      const key of [
        "epoch",
        "loss",
        "theta_y_deg",
        "cos_nontarget",
        "grad_norm_features",
        "lr",
        "img_per_s",
      ]
    ) {
      assert(Number.isFinite(lines[0][key]), `${key} = ${lines[0][key]}`);
    }
    assertEquals(lines[1].epoch, 1);
    // 4 steps an epoch: milestones at epochs 0.25 and 0.5 are steps 1 and 2.
    assertAlmostEquals(lines[0].lr, 0.005, 1e-12);
    assertAlmostEquals(lines[1].lr, 0.0005, 1e-12);
    const svg = await Deno.readTextFile(`${run}/curves.svg`);
    assertStringIncludes(svg, "training loss");
    assert((await Deno.stat(`${run}/curves.png`)).size > 100);

    const model = decodeSafetensors(await Deno.readFile(`${run}/model.safetensors`), "model");
    assertEquals(JSON.parse(model.metadata["p2sgrad.config"]).input_size, 16);
    assertEquals(JSON.parse(model.metadata["p2sgrad.train_config"]).lr, 0.05);
    assertEquals(
      JSON.parse(model.metadata["p2sgrad.training"]).input.checksum,
      info.input.checksum,
    );
    assert(model.tensors.has("conv1.weight") && model.tensors.has("features.running_var"));
    assert(
      ![...model.tensors.keys()].some((k) => k.startsWith("head") || k.startsWith("optimizer")),
    );

    const again = await runStage(["train", "-o", run, ...SMALL], toy);
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "already holds a run");
    const changed = await runStage(["train", "--resume", run, "--lr", "0.2"], toy);
    assertEquals(changed.code, 2);
    assertStringIncludes(changed.stderr, "--lr cannot change");
    await Deno.remove(dir, { recursive: true });
  },
});
