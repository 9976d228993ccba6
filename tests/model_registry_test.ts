// The backbone registry: every backbone builds at 64 and 112 px with insightface's
// parameter counts and state-dict names; initialisation is PyTorch's and seeded; the
// parameter arenas are aligned, chunked within the binding limit and grouped for decay.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../src/cli/errors.ts";
import { BACKBONES, buildNetwork, DEFAULT_BACKBONE, tinyNetwork } from "../src/model/backbones.ts";
import { forwardMacs, type Network, parameterCount } from "../src/model/network.ts";
import { ALIGN_ELEMENTS, arenaRanges, initParams, layoutParams } from "../src/model/params.ts";

const shapes = (net: Network) => new Map(net.params.map((p) => [p.name, p.shape]));

/** IResNet's parameter count from its block formula, written independently of the builder. */
function iresnetCount(blocks: number[], size: number, D: number): number {
  let n = 3 * 64 * 9 + 2 * 64 + 64; // conv1, bn1, prelu
  let inplanes = 64, side = size;
  [64, 128, 256, 512].forEach((planes, i) => {
    for (let j = 0; j < blocks[i]; j++) {
      n += 2 * inplanes + 9 * inplanes * planes + 2 * planes + planes + 9 * planes * planes +
        2 * planes;
      if (j === 0) n += inplanes * planes + 2 * planes; // downsample conv1×1 + BN
      inplanes = planes;
    }
    side = Math.ceil(side / 2);
  });
  return n + 2 * 512 + (512 * side * side) * D + D + 2 * D; // bn2, fc (+bias), features
}

Deno.test("registry: iresnet parameter counts match the block formula and insightface's published sizes", () => {
  // insightface arcface_torch model zoo: r18 24.0 M, r34 34.1 M, r50 43.6 M, r100 65.2 M
  // parameters; r50 6.3 G and r100 12.1 G FLOPs (multiply-adds) at 112 px.
  const published: Record<string, [number[], number, number | null]> = {
    iresnet18: [[2, 2, 2, 2], 24.0, null],
    iresnet34: [[3, 4, 6, 3], 34.1, null],
    iresnet50: [[3, 4, 14, 3], 43.6, 6.3],
    iresnet100: [[3, 13, 30, 3], 65.2, 12.1],
  };
  for (const [name, [blocks, millions, gmacs]] of Object.entries(published)) {
    for (const size of [64, 112]) {
      const net = buildNetwork(name, { inputSize: size, embeddingDim: 512 });
      assertEquals(parameterCount(net), iresnetCount(blocks, size, 512), `${name} at ${size} px`);
      if (size === 112) {
        assertEquals(
          Math.round(parameterCount(net) / 1e5) / 10,
          millions,
          `${name} parameters (M)`,
        );
        if (gmacs) assertEquals(Math.round(forwardMacs(net) / 1e8) / 10, gmacs, `${name} GMACs`);
      }
    }
  }
});

Deno.test("registry: iresnet uses insightface's state-dict keys, and the fc input follows the input size", () => {
  for (const [size, side] of [[112, 7], [64, 4]]) {
    const net = buildNetwork("iresnet50", { inputSize: size, embeddingDim: 256 });
    const s = shapes(net);
    assertEquals(s.get("conv1.weight"), [64, 3, 3, 3]);
    assertEquals(s.get("bn1.running_mean"), [64]);
    assertEquals(s.get("prelu.weight"), [64]);
    assertEquals(s.get("layer1.0.bn1.weight"), [64]);
    assertEquals(s.get("layer1.0.conv1.weight"), [64, 64, 3, 3]);
    assertEquals(s.get("layer1.0.downsample.0.weight"), [64, 64, 1, 1]);
    assertEquals(s.get("layer1.0.downsample.1.running_var"), [64]);
    assertEquals(s.get("layer2.0.downsample.0.weight"), [128, 64, 1, 1]);
    assertEquals(s.has("layer1.1.downsample.0.weight"), false);
    assertEquals(s.get("layer3.13.conv2.weight"), [256, 256, 3, 3]);
    assertEquals(s.get("layer4.2.bn3.bias"), [512]);
    assertEquals(s.get("bn2.weight"), [512]);
    assertEquals(s.get("fc.weight"), [256, 512 * side * side]);
    assertEquals(s.get("fc.bias"), [256]);
    assertEquals(s.get("features.weight"), [256]);
    assertEquals(s.get("features.running_var"), [256]);
    // PyTorch's state_dict order: modules in registration order, then weight, bias, buffers.
    assertEquals(net.params.slice(0, 7).map((p) => p.name), [
      "conv1.weight",
      "bn1.weight",
      "bn1.bias",
      "bn1.running_mean",
      "bn1.running_var",
      "prelu.weight",
      "layer1.0.bn1.weight",
    ]);
    // features.weight is frozen at 1 in insightface (requires_grad = False).
    const features = net.params.find((p) => p.name === "features.weight")!;
    assertEquals([features.trainable, features.buffer], [false, false]);
    assertEquals(net.activations.get(net.output), { C: 256, H: 1, W: 1 });
  }
});

Deno.test("registry: mobilefacenet has insightface's keys, groups and GDC kernel", () => {
  for (const [size, side] of [[112, 7], [64, 4]]) {
    const net = buildNetwork("mobilefacenet", { inputSize: size, embeddingDim: 512 });
    const s = shapes(net);
    assertEquals(s.get("layers.0.layers.0.weight"), [128, 3, 3, 3]);
    assertEquals(
      s.get("layers.1.layers.0.weight"),
      [128, 2, 3, 3],
      "grouped ConvBlock, groups = 64",
    );
    assertEquals(s.get("layers.2.layers.0.layers.0.weight"), [128, 128, 1, 1]);
    assertEquals(s.get("layers.2.layers.1.layers.0.weight"), [128, 1, 3, 3]);
    assertEquals(s.get("layers.3.layers.3.layers.2.layers.1.running_var"), [128]);
    assertEquals(s.get("layers.4.layers.0.layers.0.weight"), [256, 128, 1, 1]);
    assertEquals(s.get("layers.5.layers.5.layers.1.layers.2.weight"), [256]);
    assertEquals(s.get("layers.6.layers.1.layers.0.weight"), [512, 1, 3, 3]);
    assertEquals(s.get("layers.7.layers.1.layers.2.layers.0.weight"), [256, 256, 1, 1]);
    assertEquals(s.get("conv_sep.layers.0.weight"), [512, 256, 1, 1]);
    assertEquals(s.get("features.layers.0.layers.0.weight"), [512, 1, side, side]);
    assertEquals(s.get("features.layers.2.weight"), [512, 512]);
    assertEquals(s.has("features.layers.2.bias"), false);
    assertEquals(s.get("features.layers.3.running_mean"), [512]);
  }
});

Deno.test("registry: every backbone builds at 64 and 112 px; resnet-lite fits the CPU budget", () => {
  for (const [name] of BACKBONES) {
    for (const size of [64, 112]) {
      const net = buildNetwork(name, { inputSize: size, embeddingDim: 128 });
      assertEquals(net.activations.get(net.output), { C: 128, H: 1, W: 1 }, `${name} at ${size}`);
      assert(parameterCount(net) > 0);
    }
  }
  assertEquals(DEFAULT_BACKBONE, "resnet-lite");
  const lite = buildNetwork("resnet-lite", { inputSize: 64, embeddingDim: 512 });
  // ≤ 60 MFLOP (30 M multiply-adds) forward per 64×64 image.
  assert(forwardMacs(lite) <= 30e6, `resnet-lite: ${forwardMacs(lite)} MACs`);
  assertEquals(shapes(lite).get("fc.weight"), [512, 128 * 4 * 4]);
  assertThrows(
    () => buildNetwork("resnet9000", { inputSize: 64, embeddingDim: 512 }),
    UsageError,
    "known: resnet-lite",
  );
  assertThrows(
    () => buildNetwork("iresnet18", { inputSize: 64, embeddingDim: 0 }),
    UsageError,
    "embedding dimension",
  );
  assertThrows(
    () => buildNetwork("iresnet18", { inputSize: 4, embeddingDim: 8 }),
    UsageError,
    "input size",
  );
  const dropped = buildNetwork("iresnet18", { inputSize: 64, embeddingDim: 8, dropout: 0.4 });
  assertEquals(dropped.layers.filter((l) => l.op === "dropout").length, 1);
  assertEquals(
    buildNetwork("iresnet18", { inputSize: 64, embeddingDim: 8 }).layers.some((l) =>
      l.op === "dropout"
    ),
    false,
  );
});

Deno.test("init: PyTorch's defaults, seeded and deterministic", () => {
  const net = buildNetwork("resnet-lite", { inputSize: 64, embeddingDim: 512 });
  const a = initParams(net, 7), b = initParams(net, 7), c = initParams(net, 8);
  for (const p of net.params) assertEquals(a.get(p.name), b.get(p.name), p.name);
  assert(
    a.get("conv1.weight")!.some((v, i) => v !== c.get("conv1.weight")![i]),
    "another seed gives other values",
  );
  // U(−1/√fan_in, 1/√fan_in): bounds hold and the variance is bound²/3.
  const w = a.get("layer3.0.conv1.weight")!, bound = 1 / Math.sqrt(48 * 9);
  assert(w.every((v) => Math.abs(v) <= bound));
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
  assert(Math.abs(mean) < 0.02 * bound, `mean ${mean}`);
  assert(
    Math.abs(variance / (bound * bound / 3) - 1) < 0.03,
    `variance ratio ${variance / (bound * bound / 3)}`,
  );
  const fcb = a.get("fc.bias")!;
  assert(fcb.every((v) => Math.abs(v) <= 1 / Math.sqrt(2048)) && fcb.some((v) => v !== 0));
  assert(a.get("bn1.weight")!.every((v) => v === 1) && a.get("bn1.bias")!.every((v) => v === 0));
  assert(
    a.get("bn1.running_var")!.every((v) => v === 1) &&
      a.get("bn1.running_mean")!.every((v) => v === 0),
  );
  assert(a.get("prelu.weight")!.every((v) => v === 0.25));
  assert(a.get("features.weight")!.every((v) => v === 1));
});

Deno.test("arena: aligned, non-overlapping views in chunks within the limit; decaying params first, frozen last", () => {
  const net = tinyNetwork("iresnet", { inputSize: 16, embeddingDim: 10 });
  const numel = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
  const total = net.params.filter((p) => !p.buffer).reduce((s, p) => s + numel(p.shape), 0);
  for (const limit of [1 << 20, 1024]) {
    const { params, fixed } = layoutParams(net, limit);
    assertEquals(params.slots.length + fixed.slots.length, net.params.length);
    assert(fixed.slots.every((s) => s.spec.buffer) && params.slots.every((s) => !s.spec.buffer));
    assertEquals(params.slots.reduce((s, x) => s + x.size, 0), total);
    for (const layout of [params, fixed]) {
      assert(layout.chunks.every((c) => c <= limit));
      const sorted = [...layout.slots].sort((x, y) => x.chunk - y.chunk || x.offset - y.offset);
      sorted.forEach((s, i) => {
        assertEquals(s.offset % ALIGN_ELEMENTS, 0, s.spec.name);
        assert(s.offset + s.size <= layout.chunks[s.chunk], s.spec.name);
        const next = sorted[i + 1];
        if (next && next.chunk === s.chunk) {
          assert(s.offset + s.size <= next.offset, `${s.spec.name} overlaps ${next.spec.name}`);
        }
      });
    }
    assertEquals(
      params.slots[params.slots.length - 1].spec.name,
      "features.weight",
      "the frozen weight comes last",
    );
    const ranges = arenaRanges(params);
    assertEquals(
      ranges.reduce((s, r) => s + r.size, 0),
      params.chunks.reduce((a, b) => a + b, 0),
      "ranges cover the arena",
    );
    for (const s of params.slots) {
      const r = ranges.find((r) =>
        r.chunk === s.chunk && r.offset <= s.offset && s.offset + s.size <= r.offset + r.size
      )!;
      assertEquals(r.decay, s.spec.decay, s.spec.name);
    }
    if (limit === 1 << 20) {
      assertEquals(
        ranges.map((r) => r.decay),
        [true, false],
        "one decaying and one non-decaying range",
      );
    }
  }
  assertThrows(() => layoutParams(net, 32), Error, "exceeds the device's largest buffer binding");
});
