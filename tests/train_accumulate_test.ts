// Gradient accumulation in the trainer: a batch of 8 run as 2 micro-batches hands the
// optimizer the mean of the gradients that the same two halves give as batches of their
// own (backbone and class weights), and the logged statistics are the halves' mean.
import { assertEquals } from "@std/assert";
import { getGpu } from "../src/gpu/device.ts";
import { INSIGHTFACE_NORMALISATION } from "../src/model/model_file.ts";
import { resolveConfig } from "../src/train/config.ts";
import type { FaceSet } from "../src/train/dataset.ts";
import { resolveHead } from "../src/train/heads.ts";
import { toyFaces } from "../src/train/toy_faces.ts";
import { Trainer } from "../src/train/trainer.ts";
import { assertClose, hasGpu } from "./helpers/compare.ts";

const gpuMissing = !(await hasGpu());

function toySet(): FaceSet {
  const faces = toyFaces({ identities: 5, perIdentity: 6, size: 16 });
  return {
    size: 16,
    rows: faces.length,
    classes: 5,
    labels: Int32Array.from(faces, (f) => f.label),
    checksum: "",
    read: (i, out) => out.set(faces[i].pixels),
    close: () => {},
  };
}

async function trainer(batch: number, gradAccum: number): Promise<Trainer> {
  const config = resolveConfig({
    source: "test",
    values: {
      batch,
      grad_accum: gradAccum,
      embedding_dim: 16,
      flip: false,
      momentum: 0,
      weight_decay: 0,
    },
  });
  const t = await Trainer.create(await getGpu(), {
    config,
    model: {
      backbone: "resnet-lite",
      embedding_dim: 16,
      input_size: 16,
      normalisation: INSIGHTFACE_NORMALISATION,
      dropout: 0,
    },
    head: resolveHead("p2sgrad"),
    data: toySet(),
    totalSteps: 10,
  });
  t.initialise();
  return t;
}

Deno.test({
  name: "grad_accum 2: the optimizer sees the mean of the two halves' gradients and statistics",
  ignore: gpuMissing,
  async fn() {
    const gpu = await getGpu();
    const whole = await trainer(8, 2), half = await trainer(4, 1);
    assertEquals(
      whole.optimizer.groups.map((g) => g.name),
      half.optimizer.groups.map((g) => g.name),
    );
    whole.submit(0);
    const want: Float32Array[][] = [], stats = [];
    const rows = whole.order.indices(0);
    for (const part of [rows.subarray(0, 4), rows.subarray(4, 8)]) {
      half.initialise(); // the same starting weights for each half
      half.prepare(0, part);
      half.submit(0);
      want.push(await gpu.read(...half.optimizer.groups.map((g) => g.grad)));
      stats.push(await half.readStats());
    }
    const got = await gpu.read(...whole.optimizer.groups.map((g) => g.grad));
    got.forEach((g, i) => {
      const mean = g.map((_, e) => (want[0][i][e] + want[1][i][e]) / 2);
      const scale = mean.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
      assertClose(whole.optimizer.groups[i].name, g, mean, { atol: 1e-5 * scale, rtol: 1e-4 });
    });
    const st = await whole.readStats();
    assertClose("loss and θ_y", [st.loss, st.thetaTargetDeg], [
      (stats[0].loss + stats[1].loss) / 2,
      (stats[0].thetaTargetDeg + stats[1].thetaTargetDeg) / 2,
    ], { rtol: 1e-5 });
    whole.destroy();
    half.destroy();
  },
});
