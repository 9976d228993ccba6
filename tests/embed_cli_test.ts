// p2sgrad embed through main(): GPU embeddings against the model's float64 CPU reference
// (several batches and a partial last one), the flip-sum against the reference features
// of each face plus those of its mirror image computed by hand, unit rows with the
// pre-normalisation length in `norm`, stream metadata, and the size-mismatch error.
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { assertClose, hasGpu } from "./helpers/compare.ts";
import { runStage } from "./stage_io.ts";
import { toyFaces, toyFacesStream } from "../src/train/toy_faces.ts";
import { openRecordStream } from "../src/format/stream.ts";
import {
  faceToInput,
  INSIGHTFACE_NORMALISATION,
  type ModelConfig,
  networkOf,
  saveModel,
} from "../src/model/mod.ts";
import { perturbedParams } from "../src/model/params.ts";
import { referenceForward } from "../src/model/reference.ts";

const gpuMissing = !(await hasGpu());
const S = 16, D = 12;
const CONFIG: ModelConfig = {
  backbone: "resnet-lite",
  embedding_dim: D,
  input_size: S,
  normalisation: INSIGHTFACE_NORMALISATION,
};
const TOY = { identities: 3, perIdentity: 3, size: S };

async function readEmbeddings(bytes: Uint8Array) {
  const stream = await openRecordStream(ReadableStream.from([bytes]), "embeddings", "test");
  const ids: string[] = [], feats: number[] = [], norms: number[] = [];
  for await (const b of stream.batches()) {
    ids.push(...b.id);
    feats.push(...b.embedding.subarray(0, b.length * stream.meta.dim!));
    norms.push(...b.norm);
  }
  return {
    meta: stream.meta,
    ids,
    feats: Float32Array.from(feats),
    norms: Float32Array.from(norms),
  };
}

/** Features before normalisation from the float64 reference, inference mode. */
function referenceFeatures(state: Map<string, Float64Array>, faces: Uint8Array[]): Float64Array {
  const net = networkOf(CONFIG);
  const input = new Float32Array(faces.length * 3 * S * S);
  faces.forEach((f, n) => faceToInput(f, S, CONFIG.normalisation, input, n));
  return referenceForward(net, state, input, faces.length, { training: false }).acts.get(
    net.output,
  )!;
}

function mirror(pixels: Uint8Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      for (let c = 0; c < 3; c++) out[(y * S + x) * 3 + c] = pixels[(y * S + (S - 1 - x)) * 3 + c];
    }
  }
  return out;
}

Deno.test({
  name:
    "embed: GPU features match the CPU reference; --flip sums face and mirror; rows unit length; metadata",
  ignore: gpuMissing,
  async fn() {
    const dir = await Deno.makeTempDir();
    const state = perturbedParams(networkOf(CONFIG), 5);
    const path = `${dir}/m.safetensors`;
    await saveModel(path, CONFIG, new Map([...state].map(([k, v]) => [k, Float32Array.from(v)])));
    const faces = toyFaces(TOY);
    const bytes = await toyFacesStream(TOY, 4);
    // Batch 4 over 9 faces: two full batches and a partial one.
    const plain = await runStage(["embed", "-m", path, "--batch", "4"], bytes);
    assertEquals(plain.code, 0, plain.stderr);
    const flipped = await runStage(["embed", "--model", path, "--batch", "4", "--flip"], bytes);
    assertEquals(flipped.code, 0, flipped.stderr);
    const a = await readEmbeddings(plain.stdout), b = await readEmbeddings(flipped.stdout);
    assertEquals(a.ids, faces.map((f) => f.id));
    assertEquals([a.meta.dim, a.meta.model, a.meta.extra?.flip, b.meta.extra?.flip], [
      D,
      path,
      "false",
      "true",
    ]);

    const ref = referenceFeatures(state, faces.map((f) => f.pixels));
    const refMirror = referenceFeatures(state, faces.map((f) => mirror(f.pixels)));
    const unnorm = (e: typeof a) => e.feats.map((v, i) => v * e.norms[Math.floor(i / D)]);
    assertClose("embedding × norm vs reference", unnorm(a), ref, {
      atol: 1e-3,
      rtol: 1e-3,
      shape: [faces.length, D],
    });
    assertClose(
      "flip: embedding × norm vs reference(face) + reference(mirror)",
      unnorm(b),
      ref.map((v, i) => v + refMirror[i]),
      { atol: 2e-3, rtol: 1e-3, shape: [faces.length, D] },
    );
    // The mirror really contributes: an embed that ignored --flip (2 × the plain features)
    // would miss the expected sum by several times the tolerance.
    const ignoringFlip = Math.max(...ref.map((v, i) => Math.abs(2 * v - (v + refMirror[i]))));
    assert(ignoringFlip > 5 * 2e-3, `mirror contributes only ${ignoringFlip}`);
    for (const e of [a, b]) {
      for (let r = 0; r < faces.length; r++) {
        const row = e.feats.subarray(r * D, (r + 1) * D);
        assert(Math.abs(Math.hypot(...row) - 1) < 1e-5, `row ${r} is not unit length`);
        assert(e.norms[r] > 0);
      }
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "embed: faces of another size are refused with the align --size to use; --model is required",
  async fn() {
    const dir = await Deno.makeTempDir();
    const state = perturbedParams(networkOf(CONFIG), 5);
    const path = `${dir}/m.safetensors`;
    await saveModel(path, CONFIG, new Map([...state].map(([k, v]) => [k, Float32Array.from(v)])));
    const r = await runStage(["embed", "-m", path], await toyFacesStream({ ...TOY, size: 24 }));
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "faces are 24×24");
    assertStringIncludes(r.stderr, "p2sgrad align --size 16");
    const none = await runStage(["embed"], new Uint8Array());
    assertEquals(none.code, 2);
    assertStringIncludes(none.stderr, "--model FILE is required");
    await Deno.remove(dir, { recursive: true });
  },
});
