// Validation while training: the LFW-style pairs protocol (the functions `evaluate
// --protocol lfw` uses) on a held-out faces stream, embedded by an inference graph that
// reads the training model's parameters in place.
import { InputError } from "../cli/errors.ts";
import { type Pair, parsePairs } from "../data/pairs.ts";
import { IdIndex } from "../eval/embeddings.ts";
import { evaluateLfw, missingIds } from "../eval/lfw.ts";
import { openRecordStream } from "../format/stream.ts";
import { type Embedder, normaliseRows } from "./embedder.ts";

export interface ValidationSet {
  source: string;
  ids: string[];
  identities: string[];
  size: number;
  /** rows·S·S·3 bytes. */
  pixels: Uint8Array;
  pairs: Pair[];
  folds: number;
}

/** Reads the faces and the pairs, and checks that every pair's images are there and the size fits. */
export async function loadValidation(
  facesPath: string,
  pairsPath: string,
  inputSize: number,
): Promise<ValidationSet> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(facesPath);
  } catch {
    throw new InputError(
      `--val ${facesPath}: cannot open the faces file`,
      "write it with `p2sgrad align ... > FILE`",
    );
  }
  const stream = await openRecordStream(file.readable, "faces", facesPath);
  const size = stream.meta.size!;
  if (size !== inputSize) {
    throw new InputError(
      `--val ${facesPath}: faces are ${size}×${size}, the training faces are ${inputSize}×${inputSize}`,
      `align the validation images with --size ${inputSize}`,
    );
  }
  const ids: string[] = [], identities: string[] = [], chunks: Uint8Array[] = [];
  for await (const b of stream.batches()) {
    ids.push(...b.id);
    identities.push(...b.identity);
    chunks.push(b.pixels.slice());
  }
  const pixels = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) (pixels.set(c, at), at += c.length);
  let text: string;
  try {
    text = await Deno.readTextFile(pairsPath);
  } catch {
    throw new InputError(
      `--val-pairs ${pairsPath}: cannot read the pairs file`,
      "give LFW's pairs.txt or 'id1 id2 0|1' lines",
    );
  }
  const list = parsePairs(text, pairsPath);
  const missing = missingIds(list.pairs, new IdIndex(ids));
  if (missing.length > 0) {
    throw new InputError(
      `--val ${facesPath}: ${missing.length} image(s) of ${pairsPath} are not in the stream, e.g. ${
        missing.slice(0, 3).join(", ")
      }`,
      "give the faces stream made from the images the pairs file names",
    );
  }
  return {
    source: facesPath,
    ids,
    identities,
    size,
    pixels,
    pairs: list.pairs,
    folds: Math.min(10, list.pairs.length),
  };
}

/** Embeds the set with `embedder` (two batches in flight) and scores its pairs. */
export async function validate(
  embedder: Embedder,
  set: ValidationSet,
): Promise<{ accuracy: number; std: number }> {
  const rows = set.ids.length, D = embedder.dim, stride = set.size * set.size * 3;
  const feats = new Float32Array(rows * D);
  const pending: { at: number; result: Promise<Float32Array> }[] = [];
  const drain = async () => {
    const p = pending.shift()!;
    feats.set(await p.result, p.at * D);
  };
  for (let at = 0; at < rows; at += embedder.batch) {
    const count = Math.min(embedder.batch, rows - at);
    pending.push({
      at,
      result: embedder.submit(set.pixels.subarray(at * stride, (at + count) * stride), count),
    });
    if (pending.length > 1) await drain();
  }
  while (pending.length > 0) await drain();
  const { embedding, norm } = normaliseRows(feats, rows, D);
  const { result } = evaluateLfw(
    { ids: set.ids, identities: set.identities, feats: embedding, norms: norm, dim: D, meta: {} },
    set.pairs,
    set.folds,
  );
  return { accuracy: result.accuracy.mean, std: result.accuracy.std };
}
