// GPU identification scoring (score_tile + topk_merge) against the CPU reference on shapes
// that are not multiples of the workgroup or block sizes, including tied scores.
import { assert, assertEquals } from "@std/assert";
import { scoreTileWgsl } from "../kernels/score_tile_gen.ts";
import { getGpu } from "../src/gpu/device.ts";
import { DistractorTopK } from "../src/gpu/ops/topk.ts";
import { scoreTileRef, topKRef } from "../src/ref/topk.ts";
import { assertClose, hasGpu, randomArray } from "./helpers/compare.ts";

const gpuMissing = !(await hasGpu());

/** Pushes `tiles` row counts of distractors; returns the GPU lists and every score tile read back. */
async function run(
  P: number,
  D: number,
  K: number,
  tileRows: number,
  tiles: number[],
  quantize: boolean,
  seed: number,
) {
  const gpu = await getGpu();
  const q = (a: Float32Array) => quantize ? a.map((v) => Math.round(v * 2) / 2) : a;
  const probes = q(randomArray(P * D, seed));
  const total = tiles.reduce((a, b) => a + b, 0);
  const dist = q(randomArray(total * D, seed + 1));
  const op = DistractorTopK.create(gpu, probes, P, D, { K, tileRows });
  const scores = new Float64Array(total * P);
  let at = 0;
  for (const rows of tiles) {
    await op.push(dist.subarray(at * D, (at + rows) * D), rows);
    const [s] = await gpu.read(op.s);
    for (let r = 0; r < rows; r++) {
      scores.set(s.subarray(r * op.stride, r * op.stride + P), (at + r) * P);
    }
    at += rows;
  }
  const got = await op.read();
  op.destroy();
  return { probes, dist, total, scores, got };
}

for (
  const [P, D, K, tileRows, tiles, quantize] of [
    [37, 13, 6, 7, [5, 4, 7, 1], false],
    [300, 33, 10, 9, [9, 9, 2], false],
    [65, 5, 4, 16, [16, 16, 3], true], // many ties: lower index must win
    [3, 7, 12, 4, [4, 3], false], // fewer distractors than K
    [141, 20, 5, 150, [150, 150, 20], false], // several 128 × 128 score blocks per tile
  ] as const
) {
  Deno.test({
    name: `topk: P=${P} D=${D} K=${K} tiles ${tiles.join("+")}${quantize ? " (ties)" : ""}`,
    ignore: gpuMissing,
    async fn() {
      const { probes, dist, total, scores, got } = await run(
        P,
        D,
        K,
        tileRows,
        [...tiles],
        quantize,
        P * 7 + D,
      );
      // The score tiles match float64 dot products.
      assertClose("scores", scores, scoreTileRef(dist, total, probes, P, D), {
        atol: 1e-5,
        rtol: 1e-5,
        shape: [total, P],
      });
      // The running merge equals a full stable sort of the very scores it was given.
      const want = topKRef(scores, total, P, K);
      assertEquals(got.seen, total);
      assertEquals(Array.from(got.idx), Array.from(want.idx), "top-K indices");
      assertEquals(Array.from(got.val), Array.from(want.val), "top-K values");
    },
  });
}

Deno.test({
  name: "topk: scoreRows gives rows × probes without touching the lists",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const [P, D, rows] = [301, 33, 37];
    const probes = randomArray(P * D, 5), x = randomArray(rows * D, 6);
    const op = DistractorTopK.create(gpu, probes, P, D, { K: 3, tileRows: 64 });
    const s = await op.scoreRows(x, rows);
    const top = await op.read();
    op.destroy();
    assertClose("scoreRows", s, scoreTileRef(x, rows, probes, P, D), {
      atol: 1e-5,
      rtol: 1e-5,
      shape: [rows, P],
    });
    assertEquals([top.seen, top.idx[0], top.val[0]], [0, 0xffffffff, -Infinity]);
  },
});

Deno.test({
  name: "topk: a tile larger than tileRows is refused",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const op = DistractorTopK.create(gpu, randomArray(8, 1), 2, 4, { K: 2, tileRows: 2 });
    let message = "";
    await op.push(randomArray(12, 2), 3).catch((e) => message = e.message);
    op.destroy();
    assertEquals(message.includes("tiles hold 2"), true, message);
  },
});

Deno.test("kernels/score_tile.wgsl is what kernels/score_tile_gen.ts generates", () => {
  const onDisk = Deno.readTextFileSync(new URL("../kernels/score_tile.wgsl", import.meta.url));
  assert(
    onDisk === scoreTileWgsl(),
    "kernels/score_tile.wgsl is stale: run `deno run --allow-write kernels/score_tile_gen.ts`",
  );
});
