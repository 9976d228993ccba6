// Reproducibility of training through main(): the same stream, settings and seed give a
// byte-identical model file; a run stopped after k steps and resumed ends with the bytes
// of an uninterrupted one; a resumed run refuses a different stream; the kernels' two
// operand forms train to the same bytes.
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { facesStreamBytes, toyFaces, toyFacesStream } from "../src/train/toy_faces.ts";
import { listCheckpoints } from "../src/train/checkpoint.ts";
import { getGpu } from "../src/gpu/device.ts";
import { inBothForms } from "./helpers/operands.ts";

const gpuMissing = !(await hasGpu());
const TOY = { identities: 4, perIdentity: 8, size: 16 };
// Momentum, weight decay, flips, a schedule with warm-up and a dropout layer: every piece of state.
const SETTINGS = [
  "--embedding-dim",
  "16",
  "--batch",
  "8",
  "--steps",
  "9",
  "--lr",
  "0.05",
  "--warmup-steps",
  "2",
  "--dropout",
  "0.2",
  "--log-every",
  "2",
  "--seed",
  "11",
];

async function modelBytes(run: string): Promise<Uint8Array> {
  return await Deno.readFile(`${run}/model.safetensors`);
}

/** Trains `args` whole and as 4 steps plus a resume; the two model files must be byte-identical. */
async function assertResumeIdentical(toy: Uint8Array, args: string[], what: string) {
  const dir = await Deno.makeTempDir();
  let r = await runStage(["train", "-o", `${dir}/whole`, ...args], toy);
  assertEquals(r.code, 0, r.stderr);
  r = await runStage(["train", "-o", `${dir}/split`, ...args, "--stop-after", "4"], toy);
  assertEquals(r.code, 0, r.stderr);
  r = await runStage(["train", "--resume", `${dir}/split`], toy);
  assertEquals(r.code, 0, r.stderr);
  const [whole, split] = await Promise.all([
    modelBytes(`${dir}/whole`),
    modelBytes(`${dir}/split`),
  ]);
  assertEquals(whole.length, split.length);
  assertEquals(whole.findIndex((v, i) => v !== split[i]), -1, `resumed ${what} run differs`);
  const config = JSON.parse(await Deno.readTextFile(`${dir}/split/config.json`));
  await Deno.remove(dir, { recursive: true });
  return config;
}

Deno.test({
  name: "same stream, settings and seed: the same model bytes; another seed: other bytes",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const toy = await toyFacesStream(TOY);
    for (const [name, seed] of [["a", "11"], ["b", "11"], ["c", "12"]]) {
      const r = await runStage(["train", "-o", `${dir}/${name}`, ...SETTINGS, "--seed", seed], toy);
      assertEquals(r.code, 0, r.stderr);
    }
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => modelBytes(`${dir}/${n}`)));
    assertEquals(a.length, b.length);
    assert(
      a.every((v, i) => v === b[i]),
      "two runs with the same seed wrote different model bytes",
    );
    assertNotEquals(a, c);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "the same run with kernel inputs read from storage buffers and from textures: the same bytes",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const toy = await toyFacesStream(TOY);
    const [storage, texture] = await inBothForms(await getGpu(), async () => {
      const out = `${dir}/${crypto.randomUUID()}`;
      const r = await runStage(["train", "-o", out, ...SETTINGS], toy);
      assertEquals(r.code, 0, r.stderr);
      return await modelBytes(out);
    });
    assertEquals(storage.length, texture.length);
    assertEquals(storage.findIndex((v, i) => v !== texture[i]), -1, "the forms' models differ");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "stopped after 4 of 9 steps and resumed: the bytes of the uninterrupted run; a different stream is refused",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const toy = await toyFacesStream(TOY);
    let r = await runStage(["train", "-o", `${dir}/whole`, ...SETTINGS], toy);
    assertEquals(r.code, 0, r.stderr);

    r = await runStage(["train", "-o", `${dir}/split`, ...SETTINGS, "--stop-after", "4"], toy);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, "stopped after step 4 of 9");
    assertEquals((await listCheckpoints(`${dir}/split`)).map((c) => c.step), [4]);
    await assertMissing(`${dir}/split/model.safetensors`);

    // The same faces in another order is another stream: refused before any training.
    const shuffled = await facesStreamBytes(toyFaces(TOY).reverse(), TOY.size);
    r = await runStage(["train", "--resume", `${dir}/split`], shuffled);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "the faces stream differs from the one the run was trained on");

    r = await runStage(["train", "--resume", `${dir}/split`], toy);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, "resuming at step 4");
    const [whole, split] = await Promise.all([
      modelBytes(`${dir}/whole`),
      modelBytes(`${dir}/split`),
    ]);
    assertEquals(whole.length, split.length);
    const firstDiff = whole.findIndex((v, i) => v !== split[i]);
    assertEquals(
      firstDiff,
      -1,
      `resumed model differs from the uninterrupted one at byte ${firstDiff}`,
    );
    // The resumed log continues the first part's lines.
    const steps = (await Deno.readTextFile(`${dir}/split/train.log`)).trim().split("\n")
      .map((l) => JSON.parse(l).step);
    assertEquals(steps, [2, 4, 6, 8, 9]);
    await Deno.remove(dir, { recursive: true });
  },
});

async function assertMissing(path: string) {
  try {
    await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  throw new Error(`${path} should not exist`);
}

Deno.test({
  name:
    "adamw with 2 micro-batches per step: stopped after 4 of 9 steps and resumed ends with the uninterrupted run's bytes",
  ignore: gpuMissing,
  async fn() {
    const adamw = [
      ...SETTINGS,
      ...["--optimizer", "adamw", "--lr", "0.002", "--weight-decay", "0.1", "--grad-accum", "2"],
    ];
    const config = await assertResumeIdentical(await toyFacesStream(TOY), adamw, "AdamW");
    assertEquals([config.optimizer, config.grad_accum], ["adamw", 2]);
  },
});

Deno.test({
  name:
    "learned class weights (p2sgrad's default is a fixed frame): stopped after 4 of 9 steps and resumed ends with the uninterrupted run's bytes",
  ignore: gpuMissing,
  async fn() {
    const learned = [...SETTINGS, "--class-weights", "learned"];
    const config = await assertResumeIdentical(
      await toyFacesStream(TOY),
      learned,
      "learned-weights",
    );
    assertEquals(config.class_weights, "learned");
  },
});
