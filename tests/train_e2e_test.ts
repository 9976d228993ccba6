// The pipeline end to end in-process through main(): train on toy faces → embed held-out
// faces with the model file → evaluate the pairs protocol; the trained model must beat
// the same backbone untrained (its first checkpoint's weights are not the init, so the
// untrained baseline is a run of one step at a negligible learning rate).
import { assert, assertEquals } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { toyFacesStream, toyPairs } from "../src/train/toy_faces.ts";

const gpuMissing = !(await hasGpu());
const TOY = { identities: 4, perIdentity: 8, size: 16 };

async function lfwAccuracy(model: string, faces: Uint8Array, pairs: string): Promise<number> {
  const emb = await runStage(["embed", "-m", model, "--flip"], faces);
  assertEquals(emb.code, 0, emb.stderr);
  const ev = await runStage(["evaluate", "--protocol", "lfw", "--pairs", pairs], emb.stdout);
  assertEquals(ev.code, 0, ev.stderr);
  const result = JSON.parse(new TextDecoder().decode(ev.stdout));
  assertEquals(result.protocol, "lfw");
  return result.accuracy.mean;
}

Deno.test({
  name:
    "train → embed → evaluate in-process: the trained model verifies held-out faces better than an untrained one",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const train = await toyFacesStream(TOY);
    const valOpts = { ...TOY, perIdentity: 6, seed: 21 };
    const held = await toyFacesStream(valOpts);
    await Deno.writeTextFile(`${dir}/pairs.txt`, toyPairs(valOpts));
    const common = ["--embedding-dim", "16", "--batch", "8", "--log-every", "10"];
    let r = await runStage(["train", "-o", `${dir}/trained`, ...common, "--steps", "40"], train);
    assertEquals(r.code, 0, r.stderr);
    r = await runStage([
      "train",
      "-o",
      `${dir}/untrained`,
      ...common,
      "--steps",
      "1",
      "--lr",
      "1e-9",
    ], train);
    assertEquals(r.code, 0, r.stderr);
    const trained = await lfwAccuracy(`${dir}/trained/model.safetensors`, held, `${dir}/pairs.txt`);
    const untrained = await lfwAccuracy(
      `${dir}/untrained/model.safetensors`,
      held,
      `${dir}/pairs.txt`,
    );
    assert(trained >= 0.9, `trained accuracy ${trained}`);
    assert(trained > untrained, `trained ${trained} vs untrained ${untrained}`);
    await Deno.remove(dir, { recursive: true });
  },
});
