// One whole training step on the GPU — backbone forward, P2SGrad cosine head, backbone
// backward, SGD over the parameter arena — against the CPU reference path (the network
// reference, the head reference and the SGD formula), for a tiny member of each backbone
// family. Checks the loss, the class-weight and backbone gradients, that weight decay
// reaches exactly the conv/linear weights, and that the frozen features.weight stays 1.
import { assert, assertEquals } from "@std/assert";
import { getGpu, Tensor } from "../src/gpu/device.ts";
import { buildHead, initHeadWeights } from "../src/gpu/ops/head.ts";
import { tinyNetwork } from "../src/model/backbones.ts";
import { compileGraph } from "../src/model/graph.ts";
import { gpuKit } from "../src/model/gpu_kit.ts";
import { perturbedParams } from "../src/model/params.ts";
import { referenceBackward, referenceForward } from "../src/model/reference.ts";
import { cosineHead } from "../src/ref/head.ts";
import { resolveHead } from "../src/train/heads.ts";
import { arenaGroups, buildOptimizer } from "../src/train/optimizer.ts";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";

const gpuAvailable = await hasGpu();

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

for (const [family, size, N] of [["iresnet", 12, 6], ["mobilefacenet", 16, 5]] as const) {
  Deno.test({
    name: `train step: tiny ${family} + P2SGrad head + SGD on the GPU match the CPU reference path`,
    ignore: !gpuAvailable,
    fn: async () => {
      const gpu = await getGpu();
      const D = 12, K = 7, lr = 0.05, wd = 0.01;
      const net = tinyNetwork(family, { inputSize: size, embeddingDim: D });
      const params = perturbedParams(net, 31);
      const input = randomArray(N * 3 * size * size, 32);
      const labels = new Uint32Array(N).map((_, i) => (i * 3) % K);
      const weights = initHeadWeights(K, D, 33).map((v) => v * 30); // |W_j| near 1, not tiny

      const graph = await compileGraph(gpu, gpuKit(gpu), net, { batch: N, training: true });
      const labelBuf = gpu.buffer(N * 4, "labels");
      const head = await buildHead(
        gpu,
        resolveHead("p2sgrad"),
        {
          features: graph.embedding,
          labels: new Tensor(labelBuf, [N]),
          dFeatures: graph.dEmbedding!,
        },
        { N, D, K },
      );
      const sgd = await buildOptimizer(gpu, arenaGroups("backbone", graph.params, graph.grads!), {
        momentum: 0.9,
        weightDecay: wd,
        clipNorm: null,
        loss: head.stats,
      });
      graph.params.upload(params);
      graph.fixed.upload(params);
      head.writeWeights(weights);
      gpu.write(graph.input, input);
      gpu.write(labelBuf, labels);
      sgd.setStep(0, lr);
      gpu.run([...graph.forward, ...head.forward, ...head.backward, ...graph.backward]);
      const grads = await graph.grads!.download();
      const stats = await head.readStats();
      const [dW] = await gpu.read(head.shards[0].grad);
      gpu.run(sgd.dispatches);
      const updated = await graph.params.download();

      // The CPU path: network reference, head reference, network backward.
      const fwd = referenceForward(net, params, input, N, { training: true });
      const ref = cosineHead(resolveHead("p2sgrad"), fwd.embedding, weights, labels, { N, D, K });
      const bwd = referenceBackward(net, params, fwd, ref.dx, { training: true });
      assertClose("loss", [stats.loss], [ref.loss], { rtol: 1e-4, atol: 1e-6 });
      assertClose("head dW", dW, ref.dw, { atol: 2e-3 * maxAbs(ref.dw), rtol: 2e-3 });
      const floor = 0.01 * Math.max(...[...bwd.grads.values()].map(maxAbs));
      for (const [name, want] of bwd.grads) {
        const scale = Math.max(maxAbs(want), floor);
        assertClose(`d ${name}`, grads.get(name)!, want, { atol: 2e-3 * scale + 1e-7, rtol: 2e-3 });
      }

      // SGD from zero momentum: p − lr·(g + wd·p) with the GPU's own gradients, decay on
      // conv/linear weights only.
      let decayed = 0;
      for (const p of net.params.filter((q) => !q.buffer)) {
        const before = params.get(p.name)!, after = updated.get(p.name)!;
        if (!p.trainable) {
          assertEquals(after, Float32Array.from(before), `${p.name} is frozen`);
          continue;
        }
        const g = grads.get(p.name)!;
        const want = before.map((v, i) => v - lr * (g[i] + (p.decay ? wd * v : 0)));
        if (p.decay) decayed++;
        assertClose(`updated ${p.name}`, after, want, { atol: 1e-6, rtol: 1e-5 });
      }
      assert(
        decayed ===
          net.params.filter((p) => p.role === "conv_weight" || p.role === "linear_weight").length,
      );
      graph.destroy();
    },
  });
}
