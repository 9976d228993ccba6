// The kernel bench's target checks, on made-up figures (no GPU): conv rows against the best
// matmul and the memory ceiling by CPU time, and the default backbone's step from its
// convolution rows only.
import { assert, assertAlmostEquals, assertEquals } from "@std/assert";
import { type KernelFigure, summarize } from "../tasks/bench_kernels.ts";
import { buildNetwork, DEFAULT_BACKBONE } from "../src/model/backbones.ts";

function figure(kernel: string, shape: string, gflop: number, cpuMs: number, streamCpuMs = 1) {
  const threads = navigator.hardwareConcurrency;
  const f: KernelFigure = {
    kernel,
    shape,
    gflop,
    msBest: cpuMs,
    msMedian: cpuMs,
    gflopsBest: gflop / cpuMs * 1e3,
    gflopsMedian: gflop / cpuMs * 1e3,
    cpuMsBest: cpuMs * threads,
    gflopsCpu: gflop / cpuMs * 1e3,
    dispatches: 1,
    streamMs: streamCpuMs,
    streamCpuMs: streamCpuMs * threads,
    gflopsStream: gflop / streamCpuMs * 1e3,
    gflopsStreamCpu: gflop / streamCpuMs * 1e3,
  };
  return f;
}

Deno.test("bench summary: slow convolutions by CPU time, ceiling ratios, the backbone's step from its convolutions", () => {
  const net = buildNetwork(DEFAULT_BACKBONE, { inputSize: 64, embeddingDim: 512 });
  const convs = net.layers.filter((l) => l.op === "conv2d");
  const figures: KernelFigure[] = [
    // 20 GFLOP/s: the best matmul; a backbone-named fc product must not count as a layer.
    figure("matmul", "1024³", 2, 100),
    figure("matmul", `${DEFAULT_BACKBONE} fc 64×2048 · (512×2048)ᵀ Bᵀ`, 0.1, 10),
  ];
  for (const [i, l] of convs.entries()) {
    for (const kernel of ["conv2d.forward", "conv2d.backwardInput", "conv2d.backwardWeight"]) {
      // Layer 0's forward: 10 GFLOP/s (50 %), its probe at 5 GFLOP/s (25 %).
      const slow = i === 0 && kernel === "conv2d.forward";
      figures.push(figure(kernel, `${DEFAULT_BACKBONE} ${l.module}`, 0.01, slow ? 1 : 0.5, 2));
    }
  }
  const s = summarize(figures);
  assertAlmostEquals(s.bestMatmul!.cpu, 20, 1e-9);
  assertEquals(s.convsMeasured, 3 * convs.length);
  assertEquals(s.slowConvs.length, 1);
  assertAlmostEquals(s.slowConvs[0].ratio, 0.5, 1e-9);
  assertAlmostEquals(s.slowConvs[0].ceilingRatio, 0.25, 1e-9);
  assertAlmostEquals(s.slowConvs[0].ofCeiling, 2, 1e-9);
  // Every row but the first layer's input gradient: 1 + 0.5·(3·13 − 2) ms.
  assert(s.backboneStep, "a run with every layer in all three directions adds up to a step");
  assertAlmostEquals(s.backboneStep!.wallMs, 1 + 0.5 * (3 * convs.length - 2), 1e-9);
});
