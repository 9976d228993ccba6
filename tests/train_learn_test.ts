// Training behaviour through main(): the P2SGrad loss falls and the target angle shrinks
// on a learnable toy set while validation (pairs protocol) is logged; an absurd learning
// rate stops the run at the first non-finite step with a message naming it, exit 1, and
// the checkpoints from before it intact.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { toyFacesStream, toyPairs } from "../src/train/toy_faces.ts";
import { listCheckpoints, loadLatestCheckpoint } from "../src/train/checkpoint.ts";
import { frameHeadWeights } from "../src/gpu/ops/head.ts";

const gpuMissing = !(await hasGpu());
const TOY = { identities: 4, perIdentity: 8, size: 16 };
// Eight identities at batch 16: enough classes per batch for a smooth P2SGrad curve.
const LEARN = { identities: 8, perIdentity: 8, size: 16 };

async function readTrainLog(run: string): Promise<Record<string, number>[]> {
  return (await Deno.readTextFile(`${run}/train.log`)).trim().split("\n").map((l) => JSON.parse(l));
}

/** Batch values are noisy: the mean of `key` over the first two logged steps and over the last three. */
function earlyLate(log: Record<string, number>[], key: string): [number, number] {
  const mean = (xs: Record<string, number>[]) => xs.reduce((a, l) => a + l[key], 0) / xs.length;
  return [mean(log.slice(0, 2)), mean(log.slice(-3))];
}

for (const weights of ["fixed", "learned"]) {
  Deno.test({
    name:
      `P2SGrad with ${weights} class weights on a learnable toy set: loss and θy fall over 40 steps; validation accuracy logged`,
    ignore: gpuMissing,
    async fn() {
      const dir = await Deno.makeTempDir();
      const toy = await toyFacesStream(LEARN);
      // Held-out images of the same identities (another image seed) for the pairs protocol.
      const valOpts = { ...LEARN, perIdentity: 6, imageSeed: 9 };
      await Deno.writeFile(`${dir}/val.arrow`, await toyFacesStream(valOpts));
      await Deno.writeTextFile(`${dir}/val_pairs.txt`, toyPairs(valOpts));
      const args =
        `--class-weights ${weights} --embedding-dim 16 --batch 16 --steps 40 --lr 0.1 --log-every 4 --val-every 20`;
      const r = await runStage([
        "train",
        "-o",
        `${dir}/run`,
        ...args.split(" "),
        "--val",
        `${dir}/val.arrow`,
        "--val-pairs",
        `${dir}/val_pairs.txt`,
      ], toy);
      assertEquals(r.code, 0, r.stderr);
      const log = await readTrainLog(`${dir}/run`);
      const [loss0, loss1] = earlyLate(log, "loss");
      const [th0, th1] = earlyLate(log, "theta_y_deg");
      assert(loss1 < 0.5 * loss0, `loss ${loss0} → ${loss1}`);
      assert(th1 < th0 - 15, `θy ${th0} → ${th1}`);
      const vals = log.filter((l) => l.val_acc !== undefined);
      assertEquals(vals.map((l) => l.step), [20, 40]);
      assert(vals[1].val_acc > 0.8, `validation accuracy ${vals[1].val_acc}`);
      assertStringIncludes(await Deno.readTextFile(`${dir}/run/curves.svg`), "validation accuracy");
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test({
  name:
    "--class-weights fixed: the frame stays bit for bit while θy falls; more dimensions than classes complete it",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const toy = await toyFacesStream(LEARN);
    const args = "--class-weights fixed --batch 16 --steps 40 --lr 0.1 --log-every 4 --seed 5";
    let r = await runStage(
      ["train", "-o", `${dir}/run`, "--embedding-dim", "8", ...args.split(" ")],
      toy,
    );
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stderr.includes("the frame is completed"), r.stderr); // K = D: nothing to complete
    const [th0, th1] = earlyLate(await readTrainLog(`${dir}/run`), "theta_y_deg");
    assert(th1 < th0 - 15, `θy ${th0} → ${th1}`);
    const state = await loadLatestCheckpoint(`${dir}/run`);
    assertEquals(state.step, 40);
    assertEquals(state.head.weight, frameHeadWeights(LEARN.identities, 8, 5));
    assertEquals(state.config.class_weights, "fixed");
    // No optimizer state for the head: only the backbone's groups.
    assert(
      state.optimizerState.every((g) => !g.name.startsWith("head")),
      "head has optimizer state",
    );

    // More dimensions than classes: the frame is completed to an orthonormal basis of D rows.
    r = await runStage(
      ["train", "-o", `${dir}/wide`, "--embedding-dim", "16", ...args.split(" "), "--steps", "1"],
      toy,
    );
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stderr, "8 classes in 16 dimensions; the frame is completed with 8");
    assertEquals(
      (await loadLatestCheckpoint(`${dir}/wide`)).head.weight,
      frameHeadWeights(16, 16, 5),
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "an absurd learning rate stops at the first non-finite step: exit 1, step and head named, last good checkpoint kept",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const toy = await toyFacesStream(TOY);
    const run = `${dir}/run`;
    const r = await runStage([
      "train",
      "-o",
      run,
      "--head",
      "softmax",
      "--lr",
      "1e30",
      "--embedding-dim",
      "16",
      "--batch",
      "8",
      "--steps",
      "30",
      "--save-every",
      "1",
      "--keep-checkpoints",
      "2",
      "--log-every",
      "5",
      "--momentum",
      "0",
    ], toy);
    assertEquals(r.code, 1, r.stderr);
    const m = /step (\d+) \(of \d+ run so far\): non-finite loss or gradient with head softmax/
      .exec(r.stderr);
    assert(m, r.stderr);
    assertStringIncludes(r.stderr, "learning rate is likely too high");
    const bad = Number(m![1]);
    const kept = await listCheckpoints(run);
    assert(kept.length > 0 && kept.length <= 2, `checkpoints ${kept.map((c) => c.step)}`);
    // Checkpoints stop before the bad step, and the newest one is readable.
    assert(
      kept[kept.length - 1].step < bad,
      `checkpoint ${kept[kept.length - 1].step} at/after bad step ${bad}`,
    );
    const state = await loadLatestCheckpoint(run);
    assert(state.head.weight.every(Number.isFinite));
    for (const v of state.backbone.values()) assert(v.every(Number.isFinite));
    await assertNoModel(run);
    assertMatch(JSON.parse(await Deno.readTextFile(`${run}/run.json`)).status, /failed/);
    await Deno.remove(dir, { recursive: true });
  },
});

async function assertNoModel(run: string) {
  try {
    await Deno.stat(`${run}/model.safetensors`);
  } catch {
    return;
  }
  throw new Error("a diverged run must not write model.safetensors");
}
