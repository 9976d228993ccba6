// The model API on the real default backbone: state uploads and reads back bit-exactly, a
// saved model reloads into a fresh model that embeds to the same bytes, two models built
// alike train to the same bytes, and batches beyond the device's binding limit are refused
// with a message saying what to do.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { getGpu } from "../src/gpu/device.ts";
import {
  buildModel,
  initParams,
  INSIGHTFACE_NORMALISATION,
  loadModel,
  maxBatch,
  type ModelConfig,
  saveModel,
} from "../src/model/mod.ts";
import { perturbedParams } from "../src/model/params.ts";
import { hasGpu, randomArray } from "./helpers/compare.ts";

const gpuAvailable = await hasGpu();
const config: ModelConfig = {
  backbone: "resnet-lite",
  embedding_dim: 32,
  input_size: 64,
  normalisation: INSIGHTFACE_NORMALISATION,
};

Deno.test({
  name:
    "model api: state round trip, save → load → same embeddings, identical training bytes across builds",
  ignore: !gpuAvailable,
  fn: async () => {
    const gpu = await getGpu();
    const N = 3;
    const train = await buildModel(gpu, config, { batch: N, training: true, seed: 5 });
    const infer = await buildModel(gpu, config, { batch: N, training: false, shareParams: train });
    const state = new Map(
      [...perturbedParams(train.net, 2)].map(([k, v]) => [k, Float32Array.from(v)]),
    );
    train.loadState(state);
    const back = await train.readState();
    assertEquals([...back.keys()], train.net.params.map((p) => p.name), "PyTorch order");
    for (const [name, v] of state) assertEquals(back.get(name), v, name);
    assertEquals(
      (await infer.readState()).get("layer2.0.bn2.running_var"),
      state.get("layer2.0.bn2.running_var"),
    );

    const input = randomArray(train.input.size, 3);
    gpu.write(infer.input, input);
    gpu.run(infer.forward);
    const [before] = await gpu.read(infer.embedding);
    assert(before.every(Number.isFinite) && before.some((v) => v !== 0));

    const dir = await Deno.makeTempDir({ prefix: "p2sgrad-api-" });
    try {
      await saveModel(`${dir}/m.safetensors`, config, back, 9);
      const loaded = await loadModel(`${dir}/m.safetensors`);
      const fresh = await buildModel(gpu, loaded.config, { batch: N, training: false });
      fresh.loadState(loaded.state);
      gpu.write(fresh.input, input);
      gpu.run(fresh.forward);
      const [after] = await gpu.read(fresh.embedding);
      assertEquals(after, before, "a reloaded model embeds to identical bytes");
      fresh.destroy();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }

    // Two models built from the same seed and inputs: identical embeddings and gradients.
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const m = await buildModel(gpu, config, { batch: N, training: true, seed: 5 });
      m.loadState(initParams(m.net, 17));
      gpu.write(m.input, input);
      gpu.write(m.dEmbedding!, randomArray(m.dEmbedding!.size, 4));
      gpu.run([...m.forward, ...m.backward]);
      const [emb] = await gpu.read(m.embedding);
      runs.push({ emb, grads: await m.grads!.download(), state: await m.readState() });
      m.destroy();
    }
    assertEquals(runs[1].emb, runs[0].emb);
    for (const [name, g] of runs[0].grads) assertEquals(runs[1].grads.get(name), g, name);
    for (const [name, v] of runs[0].state) assertEquals(runs[1].state.get(name), v, name);
    infer.destroy();
    train.destroy();
  },
});

Deno.test({
  name:
    "model api: batches over the binding limit and mismatched parameter sharing are refused; maxBatch says what fits",
  ignore: !gpuAvailable,
  fn: async () => {
    const gpu = await getGpu();
    // resnet-lite: the stem and layer1 make 16×32×32 floats (64 KiB) per image; its largest
    // parameter (layer4 conv, 576 KiB) still fits.
    await assertRejects(
      () => buildModel(gpu, config, { batch: 16, training: false, maxBindingBytes: 700_000 }),
      Error,
      "binding limit; use a smaller batch or input size",
    );
    const small = await buildModel(gpu, config, { batch: 2, training: false });
    await assertRejects(
      () =>
        buildModel(gpu, { ...config, embedding_dim: 16 }, {
          batch: 2,
          training: false,
          shareParams: small,
        }),
      Error,
      "shareParams comes from a different network",
    );
    small.destroy();
    const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    // The largest per-image buffer: resnet-lite's 16-channel layers run direct kernels, which
    // pack nothing per image, so it is the stem's 16×32×32 output; iresnet's first block at
    // 112 px has 64 channels and runs as GEMMs, whose padded channel-last copy of the input is
    // 64×114×114 floats.
    assertEquals(maxBatch(gpu, config), Math.floor(limit / (16 * 32 * 32 * 4)));
    const r50 = { ...config, backbone: "iresnet50", input_size: 112 };
    const fits = maxBatch(gpu, r50);
    assertEquals(fits, Math.floor(limit / (64 * 114 * 114 * 4)));
    // That is what the device allows: one image more fails to build (before any kernel runs).
    await assertRejects(
      () => buildModel(gpu, r50, { batch: fits + 1, training: true }),
      Error,
      "exceeds the device limit",
    );
  },
});
