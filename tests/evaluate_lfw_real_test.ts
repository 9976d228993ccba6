// Issue 6's check on real data: a model trained by `train` (CelebA subset, a few steps at
// 32 px — the point is the evaluation, not the model) embeds LFW through `embed`, and the
// 10-fold accuracy that `evaluate --protocol lfw` prints is reproduced to the last digit by
// plain loops over the same distances (tests/helpers/lfw_plain.ts).
import { assert, assertEquals } from "@std/assert";
import { hasGpu } from "./helpers/compare.ts";
import { dataset, skipReason } from "./helpers/data.ts";
import { plainLoopKfold } from "./helpers/lfw_plain.ts";
import { runStage } from "./stage_io.ts";
import { parsePairs } from "../src/data/pairs.ts";
import { squaredDistances } from "../src/eval/verification.ts";
import { openRecordStream } from "../src/format/stream.ts";

const gpuMissing = !(await hasGpu());
const lfw = dataset("lfw"), celeba = dataset("celeba_subset_112x112");
const skip = !lfw ? skipReason("lfw") : !celeba ? skipReason("celeba_subset_112x112") : "";

async function stage(args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const r = await runStage(args, stdin);
  assertEquals(r.code, 0, `p2sgrad ${args.join(" ")}:\n${r.stderr}`);
  return r.stdout;
}

Deno.test({
  name:
    `LFW View 2 from a trained model: evaluate's 10-fold accuracy = plain loops to the last digit${
      skip ? ` (${skip})` : ""
    }`,
  ignore: gpuMissing || !!skip,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const train = await stage(
        ["align", "--mode", "resize", "--size", "32"],
        await stage([
          "prepare",
          `${celeba}/train_list.txt`,
          "--max-ids",
          "40",
        ]),
      );
      await stage(["train", "-o", `${dir}/run`, "--steps", "12", "--batch", "32"], train);

      // LFW restricted to the identities pairs.txt names (fewer images to decode and embed).
      const pairsText = await Deno.readTextFile(`${lfw}/pairs.txt`);
      const { pairs } = parsePairs(pairsText, "pairs.txt");
      const names = new Set(pairs.flatMap((p) => [p.a.split("/")[0], p.b.split("/")[0]]));
      await Deno.writeTextFile(`${dir}/ids.txt`, [...names].join("\n") + "\n");
      const faces = await stage(
        ["align", "--size", "32"],
        await stage([
          "prepare",
          lfw!,
          "--landmarks",
          `${lfw}/lfw_landmark_150px.txt`,
          "--identities",
          `${dir}/ids.txt`,
        ]),
      );
      const emb = await stage(["embed", "-m", `${dir}/run/model.safetensors`], faces);
      const metrics = JSON.parse(new TextDecoder().decode(
        await stage(["evaluate", "--protocol", "lfw", "--pairs", `${lfw}/pairs.txt`], emb),
      ));

      // The same distances, then the folds and thresholds with plain loops.
      const stream = await openRecordStream(ReadableStream.from([emb]), "embeddings", "embed");
      const rows = new Map<string, Float32Array>();
      for await (const r of stream.records()) rows.set(r.id, r.embedding);
      const D = stream.meta.dim!;
      assertEquals(pairs.length, 6000);
      const a = new Float32Array(pairs.length * D), b = new Float32Array(pairs.length * D);
      const same = new Uint8Array(pairs.length);
      pairs.forEach((p, i) => {
        const id = (s: string): Float32Array => {
          const e = rows.get(s);
          if (!e) throw new Error(`no embedding for ${s}`);
          return e;
        };
        a.set(id(p.a), i * D);
        b.set(id(p.b), i * D);
        same[i] = p.same ? 1 : 0;
      });
      const plain = plainLoopKfold(squaredDistances(a, b, D), same, 10);
      assertEquals(metrics.accuracy.folds, plain.acc);
      assertEquals(metrics.accuracy.thresholds, plain.best);
      const mean = plain.acc.reduce((s, v) => s + v, 0) / 10;
      assert(Math.abs(metrics.accuracy.mean - mean) < 1e-15, `${metrics.accuracy.mean} vs ${mean}`);
      assert(mean > 0.5 && mean < 1, `accuracy ${mean}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
