// The compiled GPU graph against the CPU reference of the whole network, on tiny members
// of each backbone family (odd batch, odd channel counts, identity and downsample
// shortcuts, grouped and depthwise convolutions, dropout, BN1d): training forward with
// running-statistic updates, backward for every trainable parameter, inference with
// shared parameters, and bit-identical repeats.
import { assert, assertEquals } from "@std/assert";
import { getGpu, type Gpu } from "../src/gpu/device.ts";
import { tinyNetwork } from "../src/model/backbones.ts";
import { type CompiledGraph, compileGraph } from "../src/model/graph.ts";
import { gpuKit } from "../src/model/gpu_kit.ts";
import { INPUT, type Network, NetworkBuilder } from "../src/model/network.ts";
import { perturbedParams } from "../src/model/params.ts";
import { referenceBackward, referenceForward } from "../src/model/reference.ts";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";

const gpuAvailable = await hasGpu();

/**
 * f32 GPU against the f64 reference: |got − want| ≤ rel·(|want| + scale), where scale is
 * the tensor's largest magnitude, floored at 1% of the largest gradient of the network
 * (gradients that vanish analytically, such as a BN bias feeding only other BNs, come out
 * as f32 rounding noise of the gradients flowing through them).
 */
function closeTo(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  floor = 0,
  rel = 2e-3,
): void {
  const scale = Math.max(maxAbs(want), floor);
  assertClose(name, got, want, { atol: rel * scale + 1e-7, rtol: rel });
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

async function runStep(
  gpu: Gpu,
  g: CompiledGraph,
  params: Map<string, Float64Array>,
  input: Float32Array,
  dEmb: Float32Array,
  step: number,
) {
  g.params.upload(params);
  g.fixed.upload(params);
  gpu.write(g.input, input);
  gpu.write(g.dEmbedding!, dEmb);
  gpu.write(g.step, new Uint32Array([step, 0, 0, 0]));
  gpu.run([...g.forward, ...g.backward]);
  const [emb] = await gpu.read(g.embedding);
  return { emb, grads: await g.grads!.download(), fixed: await g.fixed.download() };
}

const cases: [string, Network, number][] = [
  ["iresnet", tinyNetwork("iresnet", { inputSize: 14, embeddingDim: 10, dropout: 0.2 }), 5],
  ["mobilefacenet", tinyNetwork("mobilefacenet", { inputSize: 18, embeddingDim: 9 }), 3],
];

for (const [family, net, N] of cases) {
  Deno.test({
    name:
      `graph: tiny ${family} on the GPU matches the CPU reference (forward, running stats, backward, inference)`,
    ignore: !gpuAvailable,
    fn: async () => {
      const gpu = await getGpu();
      const kit = gpuKit(gpu);
      const D = net.embeddingDim, S = net.inputSize;
      const params = perturbedParams(net, 21);
      const input = randomArray(N * 3 * S * S, 22);
      const dEmb = randomArray(N * D, 23);
      const seed = 7, step = 3;
      const train = await compileGraph(gpu, kit, net, { batch: N, training: true, seed });
      const got = await runStep(gpu, train, params, input, dEmb, step);

      const opts = { training: true, seed, step };
      const fwd = referenceForward(net, params, input, N, opts);
      const ref = referenceBackward(net, params, fwd, dEmb, opts);
      closeTo("embedding", got.emb, fwd.embedding);
      for (const [name, want] of fwd.running) closeTo(name, got.fixed.get(name)!, want);
      let checked = 0;
      const floor = 0.01 * Math.max(...[...ref.grads.values()].map(maxAbs));
      for (const p of net.params.filter((q) => q.trainable)) {
        closeTo(`d ${p.name}`, got.grads.get(p.name)!, ref.grads.get(p.name)!, floor);
        checked++;
      }
      assertEquals(checked, ref.grads.size);

      // Same inputs again: identical bytes (no atomics, fixed reduction order).
      const again = await runStep(gpu, train, params, input, dEmb, step);
      assertEquals(again.emb, got.emb);
      for (const [name, v] of got.grads) assertEquals(again.grads.get(name), v, name);

      // Inference shares the parameters and uses the running statistics just updated.
      const infer = await compileGraph(gpu, kit, net, {
        batch: N,
        training: false,
        shareParams: train,
      });
      const updated = new Map(params);
      for (const [name, v] of fwd.running) updated.set(name, v);
      gpu.write(infer.input, input);
      gpu.run(infer.forward);
      const [embInfer] = await gpu.read(infer.embedding);
      closeTo(
        "inference embedding",
        embInfer,
        referenceForward(net, updated, input, N, { training: false }).embedding,
      );
      assert(
        infer.allocatedBytes < train.allocatedBytes,
        "inference recycles activations and has no gradients",
      );
    },
  });
}

/** A tensor read by two convolutions: the second input gradient is added in place by the conv. */
function twoConsumerNet(): Network {
  const b = new NetworkBuilder("two-consumers", 9, 6);
  const x = b.batchnorm("b0", b.conv("c0", INPUT, 4, 3, { pad: 1 }));
  const sum = b.add(
    "sum",
    b.conv("ca", x, 5, 3, { stride: 2, pad: 1 }),
    b.conv("cb", x, 5, 1, { stride: 2 }),
  );
  return b.finish(
    b.batchnorm("features", b.linear("fc", b.prelu("p1", b.batchnorm("b1", sum)), 6, true)),
  );
}

Deno.test({
  name:
    "graph: an activation read by two convolutions sums their input gradients (accumulating dgrad)",
  ignore: !gpuAvailable,
  fn: async () => {
    const gpu = await getGpu();
    const net = twoConsumerNet(), N = 4;
    const kit = gpuKit(gpu);
    const accumulated: boolean[] = [];
    const graph = await compileGraph(
      gpu,
      {
        ...kit,
        conv2dBackwardInput: (t, s, accumulate) => {
          accumulated.push(accumulate);
          return kit.conv2dBackwardInput(t, s, accumulate);
        },
      },
      net,
      { batch: N, training: true },
    );
    // cb's input gradient is written fresh, ca's is added onto it (input's is skipped).
    assertEquals(accumulated, [false, true]);
    const params = perturbedParams(net, 41);
    const input = randomArray(N * 3 * 81, 42), dEmb = randomArray(N * 6, 43);
    const got = await runStep(gpu, graph, params, input, dEmb, 0);
    const fwd = referenceForward(net, params, input, N, { training: true });
    const ref = referenceBackward(net, params, fwd, dEmb, { training: true });
    const floor = 0.01 * Math.max(...[...ref.grads.values()].map(maxAbs));
    for (const [name, want] of ref.grads) closeTo(`d ${name}`, got.grads.get(name)!, want, floor);
    graph.destroy();
  },
});
