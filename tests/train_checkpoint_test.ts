// Checkpoint files without a GPU: the training state survives encode/decode bit for bit,
// the newest `keep` files are kept, temporary files of an interrupted write are ignored,
// and the errors name the file (wrong kind, no checkpoint, step mismatch).
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import {
  checkpointPath,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
  type TrainingState,
} from "../src/train/checkpoint.ts";
import { resolveConfig } from "../src/train/config.ts";
import { initParams, INSIGHTFACE_NORMALISATION, networkOf, saveModel } from "../src/model/mod.ts";
import type { ModelConfig } from "../src/model/model_file.ts";

const MODEL: ModelConfig = {
  backbone: "resnet-lite",
  embedding_dim: 8,
  input_size: 16,
  normalisation: INSIGHTFACE_NORMALISATION,
  dropout: 0,
};

function state(step: number): TrainingState {
  const K = 3, D = MODEL.embedding_dim;
  return {
    step,
    config: resolveConfig({ source: "t", values: { embedding_dim: D, batch: 4, head: "softmax" } }),
    model: MODEL,
    input: { source: "stdin", rows: 12, classes: K, size: 16, checksum: "ab".repeat(32) },
    backbone: initParams(networkOf(MODEL), step),
    head: {
      weight: Float32Array.from({ length: K * D }, (_, i) => Math.sin(i + step)),
      bias: Float32Array.of(0.5, -0.25, Number.MIN_VALUE),
    },
    optimizerState: [
      { name: "backbone[0]", values: Float32Array.from({ length: 70 }, (_, i) => i * 1e-7) },
      { name: "head.weight[0]", values: new Float32Array(K * D).fill(-3) },
    ],
  };
}

Deno.test("training state round-trips bit for bit", () => {
  const s = state(7);
  const back = decodeCheckpoint(encodeCheckpoint(s), "ck");
  assertEquals(back.step, 7);
  assertEquals(back.config, s.config);
  assertEquals(back.model, s.model);
  assertEquals(back.input, s.input);
  assertEquals([...back.backbone.keys()], [...s.backbone.keys()]);
  for (const [k, v] of s.backbone) assertEquals(back.backbone.get(k), v, k);
  assertEquals(back.head, s.head);
  assertEquals(back.optimizerState, s.optimizerState);
});

Deno.test("the newest checkpoints are kept; temporary files are ignored; the latest loads", async () => {
  const dir = await Deno.makeTempDir();
  for (const step of [2, 4, 6, 8]) await saveCheckpoint(dir, state(step), 2);
  await Deno.writeFile(`${checkpointPath(dir, 10)}.tmp-123`, new Uint8Array(5)); // a killed write
  assertEquals((await listCheckpoints(dir)).map((c) => c.step), [6, 8]);
  assertEquals((await loadLatestCheckpoint(dir)).step, 8);
  await Deno.rename(checkpointPath(dir, 8), checkpointPath(dir, 9));
  await assertRejects(
    () => loadLatestCheckpoint(dir),
    Error,
    "the file says step 8, its name says 9",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a model file or an empty folder is not a checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(() => loadLatestCheckpoint(dir), Error, "no checkpoint to resume from");
  const model = `${dir}/m.safetensors`;
  await saveModel(model, MODEL, initParams(networkOf(MODEL), 1));
  assertThrows(
    () => decodeCheckpoint(Deno.readFileSync(model), model),
    Error,
    "not a training checkpoint",
  );
  await Deno.remove(dir, { recursive: true });
});
