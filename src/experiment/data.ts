// The data an experiment trains and evaluates on: the built-in synthetic faces or the
// CelebA subset → LFW (made once into REPORT_DIR/data/ by real prepare | align pipelines
// and reused by every arm and rerun), or faces streams and a pairs file given by the user.
// Label noise is applied here, to the aligned training stream, with the same seeded
// function as `prepare --label-noise` (src/data/select.ts), so one stream serves every level.
import { InputError } from "../cli/errors.ts";
import { type Pair, parsePairs } from "../data/pairs.ts";
import { addLabelNoise, type Labels } from "../data/select.ts";
import { openRecordStream, RecordStreamWriter } from "../format/stream.ts";
import { runPipeline } from "../util/pipeline.ts";
import { formatCommand } from "./commands.ts";

export interface SyntheticData {
  source: "synthetic";
  identities: number;
  per_identity: number;
  /** Side of the rendered images (prepare synthetic --size) before alignment. */
  render_size: number;
  /** Face side after `align --size`: the network's input size. */
  size: number;
  /** Generator seed: the same seed gives the same faces on any machine. */
  seed: number;
}

export interface FileData {
  source: "files";
  train: string;
  val: string;
  pairs: string;
}

/** The real data: the CelebA subset for training, LFW View 2 for evaluation, at 64 px. */
export interface LfwData {
  source: "lfw";
  /** Folder holding celeba_subset_112x112/ and lfw/. */
  root: string;
  /** LFW folds (of 10) whose faces validate during training (the curves); 0: no validation. */
  val_folds: number;
}

export type DataSettings = SyntheticData | FileData | LfwData;

/** The files the arms read, and the commands that made them (none for given files). */
export interface Inputs {
  train: string;
  /** Evaluation faces and pairs (the table). */
  val: string;
  pairs: string;
  /** Faces and pairs validated on while training (the curves): the evaluation set or a part. */
  curveVal: string | null;
  curvePairs: string | null;
  commands: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The synthetic pipelines: training identities, and the reserved identities with their pairs. */
export function syntheticPipelines(d: SyntheticData, dataDir: string): {
  train: { stages: string[][]; out: string };
  val: { stages: string[][]; out: string };
  pairs: string;
} {
  const gen = [
    "--identities",
    String(d.identities),
    "--per-identity",
    String(d.per_identity),
    "--size",
    String(d.render_size),
    "--seed",
    String(d.seed),
  ];
  const align = ["align", "--size", String(d.size)];
  const pairs = `${dataDir}/pairs.txt`;
  return {
    train: {
      stages: [["prepare", "synthetic", "--split", "train", ...gen], align],
      out: `${dataDir}/train.faces.arrow`,
    },
    val: {
      stages: [["prepare", "synthetic", "--split", "pairs", ...gen, "--pairs-out", pairs], align],
      out: `${dataDir}/pairs.faces.arrow`,
    },
    pairs,
  };
}

/** Makes (or finds, from an earlier run) the inputs. */
export async function prepareInputs(
  d: DataSettings,
  reportDir: string,
  log: (line: string) => Promise<void>,
): Promise<Inputs> {
  if (d.source === "files") {
    for (const [flag, path] of [["--train", d.train], ["--val", d.val], ["--pairs", d.pairs]]) {
      if (!(await exists(path))) {
        throw new InputError(`${flag} ${path}: no such file`, "check the path");
      }
    }
    return {
      train: d.train,
      val: d.val,
      pairs: d.pairs,
      curveVal: d.val,
      curvePairs: d.pairs,
      commands: [],
    };
  }
  const dataDir = `${reportDir}/data`;
  await Deno.mkdir(dataDir, { recursive: true });
  const p = d.source === "synthetic" ? syntheticPipelines(d, dataDir) : lfwPipelines(d, dataDir);
  const commands: string[] = [];
  for (const part of [p.train, p.val]) {
    commands.push(`${formatCommand(part.stages)} > ${part.out}`);
    // runPipeline renames the output into place only when every stage succeeded, so an
    // existing file is complete (and pairs.txt, written before the val stream, too).
    if (await exists(part.out)) continue;
    await log(`experiment: making ${part.out}`);
    const r = await runPipeline(part.stages, { stdoutFile: part.out });
    if (!r.ok) {
      throw new InputError(
        `making ${part.out} failed (exit codes ${r.codes.join(", ")}); see the messages above`,
        "rerun the experiment to try again",
      );
    }
  }
  if (d.source === "synthetic") {
    return {
      train: p.train.out,
      val: p.val.out,
      pairs: p.pairs,
      curveVal: p.val.out,
      curvePairs: p.pairs,
      commands,
    };
  }
  // Only the 7,701 faces that pairs.txt names are embedded for the evaluation (the figures
  // are the same as over all 13,233), and a few folds draw the training curves.
  const pairsFaces = `${dataDir}/lfw_pairs.faces.arrow`;
  if (!(await exists(pairsFaces))) await writeFoldSubset(p.val.out, p.pairs, 10, pairsFaces, null);
  commands.push(`# ${pairsFaces}: the faces pairs.txt names (by the experiment)`);
  let curveVal: string | null = null, curvePairs: string | null = null;
  if (d.val_folds > 0) {
    curveVal = `${dataDir}/lfw_val.faces.arrow`;
    curvePairs = `${dataDir}/lfw_val_pairs.txt`;
    if (!(await exists(curveVal))) {
      await writeFoldSubset(p.val.out, p.pairs, d.val_folds, curveVal, curvePairs);
    }
    commands.push(
      `# ${curveVal} and ${curvePairs}: the faces and pairs of LFW folds 1-${d.val_folds} (by the experiment)`,
    );
  }
  return { train: p.train.out, val: pairsFaces, pairs: p.pairs, curveVal, curvePairs, commands };
}

/** The real-data pipelines: CelebA subset resized to 64 px; LFW aligned with its landmarks. */
export function lfwPipelines(d: LfwData, dataDir: string): {
  train: { stages: string[][]; out: string };
  val: { stages: string[][]; out: string };
  pairs: string;
} {
  return {
    train: {
      stages: [
        ["prepare", `${d.root}/celeba_subset_112x112/train_list.txt`],
        ["align", "--mode", "resize", "--size", "64"],
      ],
      out: `${dataDir}/train.faces.arrow`,
    },
    val: {
      stages: [
        ["prepare", `${d.root}/lfw`, "--landmarks", `${d.root}/lfw/lfw_landmark_150px.txt`],
        ["align", "--size", "64"],
      ],
      out: `${dataDir}/lfw.faces.arrow`,
    },
    pairs: `${d.root}/lfw/pairs.txt`,
  };
}

/**
 * Writes the faces that the first `folds` folds of `pairsPath` name (in stream order) from
 * `facesPath`, and those pairs as 'id1 id2 0|1 fold' lines unless `outPairs` is null; each
 * file atomically.
 */
export async function writeFoldSubset(
  facesPath: string,
  pairsPath: string,
  folds: number,
  outFaces: string,
  outPairs: string | null,
): Promise<{ pairs: number; faces: number }> {
  const list = parsePairs(await Deno.readTextFile(pairsPath), pairsPath);
  const kept = balancedOrder(list.pairs.filter((p) => p.fold < folds));
  const ids = new Set(kept.flatMap((p) => [p.a, p.b]));
  const stream = await readFaces(facesPath);
  const tmp = `${outFaces}.partial`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let faces = 0;
  try {
    const writer = new RecordStreamWriter(file.writable, stream.meta);
    const S3 = stream.meta.size! * stream.meta.size! * 3;
    for await (const b of stream.batches()) {
      const rows = b.id.flatMap((id, i) => (ids.has(id) ? [i] : []));
      if (rows.length === 0) continue;
      const pixels = new Uint8Array(rows.length * S3);
      rows.forEach((r, k) => pixels.set(b.pixels.subarray(r * S3, (r + 1) * S3), k * S3));
      await writer.writeColumns({
        length: rows.length,
        id: rows.map((r) => b.id[r]),
        identity: rows.map((r) => b.identity[r]),
        label: Int32Array.from(rows, (r) => b.label[r]),
        cleanLabel: Int32Array.from(rows, (r) => b.cleanLabel[r]),
        pixels,
      });
      faces += rows.length;
    }
    await writer.close();
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  if (outPairs !== null) {
    const text = kept.map((p) => `${p.a} ${p.b} ${p.same ? 1 : 0} ${p.fold}`).join("\n") + "\n";
    await Deno.writeTextFile(`${outPairs}.partial`, text);
    await Deno.rename(`${outPairs}.partial`, outPairs);
  }
  await Deno.rename(tmp, outFaces);
  return { pairs: kept.length, faces };
}

/**
 * Same and different pairs alternating within each fold: the pairs protocol splits a list
 * into contiguous folds, and LFW's order (300 same, then 300 different) would make each
 * fold of a part of it all-same or all-different.
 */
export function balancedOrder(pairs: Pair[]): Pair[] {
  const out: Pair[] = [];
  const folds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  for (const f of folds) {
    const same = pairs.filter((p) => p.fold === f && p.same);
    const diff = pairs.filter((p) => p.fold === f && !p.same);
    for (let i = 0; i < Math.max(same.length, diff.length); i++) {
      if (i < same.length) out.push(same[i]);
      if (i < diff.length) out.push(diff[i]);
    }
  }
  return out;
}

/** The data folder: `given`, else $P2SGRAD_DATA, else ../shared/data beside the checkout. */
export async function findDataRoot(given: string | undefined, what: string): Promise<string> {
  const candidates = given !== undefined
    ? [given]
    : [Deno.env.get("P2SGRAD_DATA"), new URL("../../../shared/data", import.meta.url).pathname]
      .filter((x): x is string => !!x);
  const need = [
    "lfw/pairs.txt",
    "lfw/lfw_landmark_150px.txt",
    "celeba_subset_112x112/train_list.txt",
  ];
  for (const root of candidates) {
    let ok = true;
    for (const f of need) {
      if (!(await exists(`${root}/${f}`))) ok = false;
    }
    if (ok) return root.replace(/\/$/, "");
  }
  throw new InputError(
    `${what} needs the real data: ${need.join(", ")}, not all found in ${
      candidates.join(" or ") || "(no folder given)"
    }`,
    "pass --data DIR or set P2SGRAD_DATA to the folder holding lfw/ and celeba_subset_112x112/",
  );
}

/**
 * The training stream with a fraction `p` of labels replaced (seeded), written once next to
 * the report as data/train.noise<p>.faces.arrow; `p` 0 is the stream itself.
 */
export async function noisyTrain(
  inputs: Inputs,
  p: number,
  seed: number,
  reportDir: string,
): Promise<{ path: string; flipped: number }> {
  if (p === 0) return { path: inputs.train, flipped: 0 };
  const out = `${reportDir}/data/train.noise${p}.faces.arrow`;
  if (await exists(out)) return { path: out, flipped: -1 };
  await Deno.mkdir(`${reportDir}/data`, { recursive: true });
  const flipped = await writeNoisyFaces(inputs.train, out, p, seed);
  return { path: out, flipped };
}

async function readFaces(path: string) {
  const f = await Deno.open(path, { read: true });
  return openRecordStream(f.readable, "faces", path);
}

/**
 * Copies the faces stream at `from` to `to` (atomically) with round(p·N) labels replaced by
 * a uniformly drawn wrong one; `clean_label` keeps the true label. Two passes, so a large
 * stream is never held in memory. Returns the number of replaced labels.
 */
export async function writeNoisyFaces(
  from: string,
  to: string,
  p: number,
  seed: number,
): Promise<number> {
  const labels: Labels[] = [];
  let classes = 0;
  for await (const batch of (await readFaces(from)).batches()) {
    for (let i = 0; i < batch.label.length; i++) {
      const clean = batch.cleanLabel[i];
      if (clean < 0) {
        throw new InputError(
          `${from}: row ${labels.length} (${
            batch.id[i]
          }) has no label; label noise needs labelled faces`,
          "prepare labels identities from folder names or the list file's second column",
        );
      }
      labels.push({ label: clean, cleanLabel: clean });
      classes = Math.max(classes, clean + 1);
    }
  }
  let flipped: number;
  try {
    flipped = addLabelNoise(labels, classes, p, seed);
  } catch (err) {
    throw new InputError(`${from}: ${(err as Error).message}`);
  }
  const stream = await readFaces(from);
  const tmp = `${to}.partial`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const writer = new RecordStreamWriter(file.writable, stream.meta);
    let row = 0;
    for await (const batch of stream.batches()) {
      const label = new Int32Array(batch.length);
      for (let i = 0; i < batch.length; i++) label[i] = labels[row++].label;
      await writer.writeColumns({ ...batch, label });
    }
    await writer.close();
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await Deno.rename(tmp, to);
  return flipped;
}
