// The data an experiment trains and evaluates on: the built-in synthetic faces (made once
// into REPORT_DIR/data/ by real prepare | align pipelines and reused by every arm and every
// rerun), or faces streams and a pairs file given on the command line. Label noise is
// applied here, to the aligned training stream, with the same seeded function as
// `prepare --label-noise` (src/data/select.ts), so one aligned stream serves every level.
import { InputError } from "../cli/errors.ts";
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

export type DataSettings = SyntheticData | FileData;

/** The files the arms read, and the commands that made them (none for given files). */
export interface Inputs {
  train: string;
  val: string;
  pairs: string;
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
    return { train: d.train, val: d.val, pairs: d.pairs, commands: [] };
  }
  const dataDir = `${reportDir}/data`;
  await Deno.mkdir(dataDir, { recursive: true });
  const p = syntheticPipelines(d, dataDir);
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
  return { train: p.train.out, val: p.val.out, pairs: p.pairs, commands };
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
