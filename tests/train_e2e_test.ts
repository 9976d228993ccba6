// The pipeline end to end in-process through main(): train on toy faces → embed held-out
// images of the same identities with the model file (with --flip) → evaluate the pairs
// protocol; every stage exits 0, the metrics JSON counts every pair and records the flip,
// and the trained model verifies the held-out pairs.
import { assert, assertEquals } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { toyFacesStream, toyPairs } from "../src/train/toy_faces.ts";

const gpuMissing = !(await hasGpu());
const TOY = { identities: 4, perIdentity: 8, size: 16 };

Deno.test({
  name: "train → embed → evaluate in-process: held-out pairs of the training identities verified",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const train = await toyFacesStream(TOY);
    const heldOpts = { ...TOY, perIdentity: 6, imageSeed: 21 };
    const held = await toyFacesStream(heldOpts);
    await Deno.writeTextFile(`${dir}/pairs.txt`, toyPairs(heldOpts));
    const r = await runStage(
      ["train", "-o", `${dir}/run`, "--embedding-dim", "16", "--batch", "8", "--steps", "40"],
      train,
    );
    assertEquals(r.code, 0, r.stderr);
    const emb = await runStage(["embed", "-m", `${dir}/run/model.safetensors`, "--flip"], held);
    assertEquals(emb.code, 0, emb.stderr);
    const ev = await runStage(
      ["evaluate", "--protocol", "lfw", "--pairs", `${dir}/pairs.txt`],
      emb.stdout,
    );
    assertEquals(ev.code, 0, ev.stderr);
    const result = JSON.parse(new TextDecoder().decode(ev.stdout));
    assertEquals(result.protocol, "lfw");
    // 4 identities × 5 consecutive pairs, each once same and once different.
    assertEquals([result.counts.pairs, result.counts.same, result.counts.embeddings], [40, 20, 24]);
    assertEquals(result.conventions.flip, "true");
    assert(result.accuracy.mean >= 0.9, `accuracy ${result.accuracy.mean}`);
    await Deno.remove(dir, { recursive: true });
  },
});
