// The GEMM kernel against the float64 reference: every transpose combination on shapes
// that are and are not multiples of the tile (vec4 and scalar paths), batches with
// strides, shared operands, alpha, accumulate, views at offsets, and bit-identical reruns.
import { assert, assertEquals, assertRejects } from "@std/assert";
import { getGpu, type Gpu, Tensor } from "../src/gpu/device.ts";
import { matmul } from "../src/gpu/ops/matmul.ts";
import { matmul as matmulRef, type MatmulShape, matmulSizes } from "../src/ref/matmul.ts";
import { matmulWgsl } from "../kernels/matmul_gen.ts";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";
import { assertSameInBothForms, inBothForms } from "./helpers/operands.ts";

const gpuPresent = await hasGpu();
const ignore = !gpuPresent;

/** Runs one product on the GPU (C starting from `c0`) and returns C. */
async function run(gpu: Gpu, s: MatmulShape, a: Float32Array, b: Float32Array, c0: Float32Array) {
  const ta = gpu.tensor([a.length], "a", a), tb = gpu.tensor([b.length], "b", b);
  const tc = gpu.tensor([c0.length], "c", c0);
  gpu.run(await matmul(gpu, { a: ta, b: tb, c: tc }, s));
  const [c] = await gpu.read(tc);
  for (const t of [ta, tb, tc]) t.buffer.destroy();
  return c;
}

async function check(s: MatmulShape, seed: number) {
  const gpu = await getGpu();
  const sizes = matmulSizes(s);
  const a = randomArray(sizes.a, seed), b = randomArray(sizes.b, seed + 1);
  const c0 = randomArray(sizes.c, seed + 2);
  const got = await run(gpu, s, a, b, c0);
  const want = matmulRef(a, b, s, c0);
  const tol = { atol: 2e-5 * Math.sqrt(s.K), rtol: 1e-4, shape: [s.batch ?? 1, s.M, s.N] };
  assertClose(`matmul ${JSON.stringify(s)}`, got, want, tol);
}

const sizes: [number, number, number][] = [
  [37, 29, 19], // nothing aligned: scalar loads, K tail, partial tiles
  [64, 48, 32], // everything a multiple of 4: vec4 loads
  [1, 5, 3], // a single row
  [130, 70, 67], // several workgroups, ragged edges
  [20, 36, 8], // aligned N and K, ragged M
];

for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
  Deno.test({
    name: `matmul GPU = reference, transA ${transA} transB ${transB}, aligned and ragged shapes`,
    ignore,
    fn: async () => {
      let seed = 10;
      for (const [M, N, K] of sizes) await check({ M, N, K, transA, transB }, seed += 10);
    },
  });
}

Deno.test({
  name: "matmul GPU: batch with strides, alpha and accumulate; stride 0 shares B",
  ignore,
  fn: async () => {
    await check({ M: 9, N: 12, K: 16, batch: 3, alpha: 0.5, accumulate: true }, 1);
    // Blocks wholly inside C (stored without checks) and at its edges, accumulating.
    await check({ M: 20, N: 40, K: 16, batch: 2, alpha: 0.5, accumulate: true }, 5);
    await check({ M: 8, N: 12, K: 7, batch: 5, transA: true, transB: true, alpha: -2 }, 2);
    await check({ M: 6, N: 10, K: 12, batch: 4, strideB: 0, transB: true }, 3);
    // Padded strides (not multiples of 4) force the scalar path on an otherwise aligned shape.
    await check({ M: 8, N: 8, K: 8, batch: 2, strideA: 70, strideB: 66, strideC: 65 }, 4);
  },
});

Deno.test({
  name: "matmul GPU: tensors that are views at offsets in one buffer",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    const s: MatmulShape = { M: 33, N: 20, K: 12, transB: true };
    const sizes = matmulSizes(s);
    const a = randomArray(sizes.a, 5), b = randomArray(sizes.b, 6);
    // Inputs share one buffer; the output sits at an offset in another (WebGPU forbids one
    // buffer bound both read-only and writable in a dispatch, even at disjoint ranges).
    const bt = 256 * Math.ceil((sizes.a * 4) / 256);
    const inputs = gpu.buffer(bt + sizes.b * 4, "inputs"),
      outputs = gpu.buffer(512 + sizes.c * 4, "outputs");
    const ta = new Tensor(inputs, [sizes.a], 0), tb = new Tensor(inputs, [sizes.b], bt);
    const tc = new Tensor(outputs, [sizes.c], 512);
    gpu.write(ta, a);
    gpu.write(tb, b);
    gpu.run(await matmul(gpu, { a: ta, b: tb, c: tc }, s));
    const [got, gotA] = await gpu.read(tc, ta);
    assertClose("C in arena", got, matmulRef(a, b, s), {
      atol: 1e-4,
      rtol: 1e-4,
      shape: [s.M, s.N],
    });
    assertEquals(gotA, a, "A must be left as it was");
    inputs.destroy();
    outputs.destroy();
  },
});

Deno.test({
  name: "matmul GPU: the same inputs twice give identical bytes",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    const s: MatmulShape = { M: 70, N: 45, K: 301, transA: true };
    const sizes = matmulSizes(s);
    const a = randomArray(sizes.a, 7), b = randomArray(sizes.b, 8), c0 = new Float32Array(sizes.c);
    const first = await run(gpu, s, a, b, c0);
    const second = await run(gpu, s, a, b, c0);
    assertEquals(new Uint8Array(second.buffer), new Uint8Array(first.buffer));
  },
});

Deno.test({
  name: "matmul GPU: the storage and texture operand forms give identical bytes",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    // The texture form copies each vec4 operand into a texture; the storage form copies none.
    const t = { a: gpu.tensor([64 * 32]), b: gpu.tensor([32 * 48]), c: gpu.tensor([64 * 48]) };
    const [storage, texture] = await inBothForms(
      gpu,
      () => matmul(gpu, t, { M: 64, N: 48, K: 32 }),
    );
    assertEquals([storage, texture].map((l) => l.filter((d) => "copy" in d).length), [0, 2]);
    let seed = 40;
    // The vec4 path (the one textures serve) in every transpose, and one ragged shape: each
    // is a kernel variant both forms compile (seconds each on a cold shader cache).
    const picked: MatmulShape[] = [
      ...[[false, false], [true, false], [false, true], [true, true]].map(([transA, transB]) => ({
        M: 64,
        N: 48,
        K: 32,
        transA,
        transB,
      })),
      { M: 37, N: 29, K: 19 },
    ];
    for (const s of picked) {
      const n = matmulSizes(s);
      const a = randomArray(n.a, seed++), b = randomArray(n.b, seed++);
      const c0 = randomArray(n.c, seed++);
      await assertSameInBothForms(
        `matmul ${JSON.stringify(s)}`,
        gpu,
        async () => [await run(gpu, s, a, b, c0)],
      );
    }
  },
});

Deno.test({
  name: "matmul GPU: wrong sizes are refused with the shapes in the message",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    const small = gpu.tensor([10], "small");
    await assertRejects(
      () => matmul(gpu, { a: small, b: small, c: small }, { M: 4, N: 4, K: 4 }),
      Error,
      "a has 10 elements",
    );
    await assertRejects(
      () => matmul(gpu, { a: small, b: small, c: small }, { M: 0, N: 4, K: 4 }),
      Error,
      "M must",
    );
    small.buffer.destroy();
  },
});

Deno.test("kernels/matmul.wgsl is what kernels/matmul_gen.ts generates", () => {
  const onDisk = Deno.readTextFileSync(new URL("../kernels/matmul.wgsl", import.meta.url));
  assert(
    onDisk === matmulWgsl(),
    "kernels/matmul.wgsl is stale: run `deno run --allow-write kernels/matmul_gen.ts`",
  );
});
