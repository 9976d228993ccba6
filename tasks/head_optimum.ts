// How well can a P2SGrad head fit a model's features? For each embeddings stream (from
// `p2sgrad embed` on the training faces), the mean target angle θ_y of the class weights that
// minimise P2SGrad's objective on those fixed features, against class-mean weights, with the
// features' effective rank, the feature-side optimum (the angle to its class mean at which a
// feature's P2SGrad loss is least, weights on the class means) with the number of directions
// orthogonal to every class weight, and mean within/between-class cosines
// (src/eval/head_optimum.ts).
// The features are the pre-normalisation embeddings (embedding × norm), centred as
// training-mode batch normalisation centres them. `--whiten R` first decorrelates them (ZCA,
// ridge R × the mean eigenvalue): the same figures if the embedding were isotropic.
//
//   deno run --allow-read tasks/head_optimum.ts [--json] [--whiten R] EMBEDDINGS.arrow...
import { parseArgs } from "@std/cli/parse-args";
import { openRecordStream } from "../src/format/stream.ts";
import { headOptimum, whiten } from "../src/eval/head_optimum.ts";

async function readFeatures(path: string) {
  const file = await Deno.open(path);
  const stream = await openRecordStream(file.readable, "embeddings", path);
  const values: number[] = [], labels: number[] = [];
  let D = 0;
  for await (const r of stream.records()) {
    if (r.label < 0) {
      throw new Error(`${path}: record ${r.id} has no label (-1): labels are needed`);
    }
    D = r.embedding.length;
    for (const v of r.embedding) values.push(v * r.norm);
    labels.push(r.label);
  }
  return { features: Float64Array.from(values), labels, D };
}

if (import.meta.main) {
  const a = parseArgs(Deno.args, { boolean: ["json"], string: ["whiten"] });
  const json = a.json;
  const ridge = a.whiten === undefined ? null : Number(a.whiten);
  const paths = a._.map(String);
  if (paths.length === 0 || (ridge !== null && !(ridge > 0))) {
    console.error(
      "usage: deno run --allow-read tasks/head_optimum.ts [--json] [--whiten R > 0] EMBEDDINGS.arrow...",
    );
    Deno.exit(2);
  }
  const rows = [];
  for (const path of paths) {
    const { features, labels, D } = await readFeatures(path);
    const t0 = performance.now();
    const x = ridge === null ? features : whiten(features, D, ridge);
    const { weights: _, ...r } = headOptimum(x, labels, D);
    rows.push({ path, samples: labels.length, dim: D, ...r });
    console.error(`${path}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(
      "| embeddings | θy, P2SGrad-optimal weights | θy, class-mean weights | effective rank | feature-side optimum θy | null dims of the weights | cos within | cos between |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of rows) {
      console.log(
        `| ${r.path} | ${r.optimalThetaDeg.toFixed(1)}° | ${r.classMeanThetaDeg.toFixed(1)}° | ${
          r.effectiveRank.toFixed(1)
        } | ${r.featureOptimumThetaDeg.toFixed(1)}° | ${r.weightNullDims} | ${
          r.withinCos.toFixed(3)
        } | ${r.betweenCos.toFixed(3)} |`,
      );
    }
  }
}
