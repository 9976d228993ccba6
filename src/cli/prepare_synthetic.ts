// `p2sgrad prepare synthetic`: the built-in face generator as an images stream (PPM bytes
// and exact landmarks), and optionally an LFW-format pairs file over identities reserved
// from training. `prepare` hands its arguments here when its source is `synthetic`.
import { formatLfwPairs } from "../data/pairs.ts";
import { selectImages, type SelectOptions } from "../data/select.ts";
import {
  maxPairsPerFold,
  splitIdentities,
  SYNTHETIC_DEFAULTS,
  type SyntheticConfig,
  syntheticItems,
  syntheticPairs,
  type SyntheticSplit,
} from "../data/synthetic.ts";
import { defaultWorkers, renderFaces } from "../data/synthetic_pool.ts";
import { RecordStreamWriter } from "../format/stream.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log } from "./io.ts";

const D = SYNTHETIC_DEFAULTS;

const FLAGS = {
  identities: {
    type: "number",
    arg: "N",
    default: D.identities,
    help: "identities generated in all",
  },
  "per-identity": { type: "number", arg: "M", default: D.perIdentity, help: "images per identity" },
  size: { type: "number", arg: "S", default: D.size, help: "image side in pixels (16..1024)" },
  seed: { type: "number", default: D.seed, help: "generator seed (also seeds label noise)" },
  split: {
    type: "string",
    arg: "PART",
    default: "all",
    help: "train | pairs | all: training identities, the reserved pairs identities, or both",
  },
  "pairs-fraction": {
    type: "number",
    arg: "F",
    default: D.pairsFraction,
    help: "share of identities reserved for pairs (never in --split train)",
  },
  "pairs-out": {
    type: "string",
    arg: "FILE",
    help: "write an LFW-format pairs file over the pairs identities",
  },
  folds: { type: "number", arg: "K", default: 10, help: "folds in the pairs file" },
  "pairs-per-fold": {
    type: "number",
    arg: "P",
    help: "same (and different) pairs per fold (default: as many as fit, at most 300)",
  },
  "label-noise": {
    type: "number",
    arg: "P",
    default: 0,
    help: "give a fraction P of images a random wrong label (clean_label keeps the true one)",
  },
  shard: { type: "string", arg: "K/N", help: "keep rows i with i mod N = K (labels stay global)" },
  workers: {
    type: "number",
    arg: "T",
    help:
      "render on T worker threads (default: CPUs − 1 up to 8 with ≥ 4 CPUs and ≥ 1000 images; else 0)",
  },
} satisfies FlagSpec;

export const usage = `Synthetic faces: p2sgrad prepare synthetic [options] > images.arrow

Renders N identities × M images of a built-in 3-D head model (identity: head and jaw
shape, eye, brow, nose and mouth geometry, skin, hair, marks; per image: pose within
±25°, framing, light, expression, glasses, occluders, background, focus, noise). Images
are binary PPM files in the bytes column with exact landmarks; ids follow LFW's naming,
syn_00042/syn_00042_0003.ppm. The same arguments give the same bytes on any machine.

Options (synthetic):
${formatFlags(FLAGS)}

Examples:
  p2sgrad prepare synthetic --split train | p2sgrad align --size 64 | p2sgrad train -o run/
  p2sgrad prepare synthetic --split pairs --pairs-out pairs.txt | p2sgrad align --size 64 \\
    | p2sgrad embed -m run/model.safetensors | p2sgrad evaluate --protocol lfw --pairs pairs.txt`;

/** Runs the generator; `args` are prepare's, with or without the leading `synthetic`. */
export async function runSynthetic(args: string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags(args, FLAGS);
  const rest = positional[0] === "synthetic" ? positional.slice(1) : positional;
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  const cfg: SyntheticConfig = {
    identities: checkRange("identities", flags.identities, { min: 1, max: 1e6, integer: true }),
    perIdentity: checkRange("per-identity", flags["per-identity"], {
      min: 1,
      max: 1e5,
      integer: true,
    }),
    size: checkRange("size", flags.size, { min: 16, max: 1024, integer: true }),
    seed: checkRange("seed", flags.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
    pairsFraction: checkRange("pairs-fraction", flags["pairs-fraction"], { min: 0, max: 1 }),
  };
  const split = flags.split;
  if (split !== "train" && split !== "pairs" && split !== "all") {
    throw new UsageError(`--split must be train, pairs or all, got ${JSON.stringify(split)}`);
  }
  const select: SelectOptions = {
    seed: cfg.seed,
    labelNoise: checkRange("label-noise", flags["label-noise"], { min: 0, max: 1 }),
  };
  if (flags.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
      throw new UsageError(
        `--shard expects K/N with 0 <= K < N, got ${JSON.stringify(flags.shard)}`,
      );
    }
    select.shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  const pairsText = flags["pairs-out"] === undefined ? null : pairsFile(cfg, split, flags);

  const parts = splitIdentities(cfg);
  const items = syntheticItems(cfg, split);
  if (items.length === 0) {
    throw new InputError(
      `--split ${split} holds no identities (${parts.train.length} train, ${parts.pairs.length} pairs)`,
      "raise --identities or change --pairs-fraction",
    );
  }
  let selected;
  try {
    selected = selectImages(items, select);
  } catch (err) {
    throw new InputError(`synthetic: ${(err as Error).message}`);
  }
  const workers = flags.workers === undefined
    ? defaultWorkers(selected.items.length)
    : checkRange("workers", flags.workers, { min: 0, max: 64, integer: true });
  const log = new Log(io.stderr, io.stderrIsTerminal);
  try {
    await log.line(
      `prepare: synthetic faces, seed ${cfg.seed}: ${cfg.identities} identities (${parts.train.length} train, ` +
        `${parts.pairs.length} pairs) × ${cfg.perIdentity} images at ${cfg.size} px; --split ${split}`,
    );
    if (pairsText !== null) {
      await Deno.writeTextFile(flags["pairs-out"]!, pairsText.text);
      await log.line(
        `  pairs: ${
          flags["pairs-out"]
        } (${pairsText.folds} folds × ${pairsText.perFold} same + ${pairsText.perFold} different)`,
      );
    }
    if (selected.report.noisy > 0) {
      await log.line(
        `  --label-noise ${select.labelNoise}: ${selected.report.noisy} labels replaced by a wrong one`,
      );
    }
    const writer = new RecordStreamWriter(io.stdout, {
      kind: "images",
      extra: {
        source: "synthetic",
        "synthetic.seed": String(cfg.seed),
        "synthetic.identities": String(cfg.identities),
        "synthetic.per_identity": String(cfg.perIdentity),
        "synthetic.pairs_fraction": String(cfg.pairsFraction),
        "synthetic.split": split,
      },
    });
    const started = performance.now();
    let last = started, k = 0;
    for await (const { ppm, landmarks } of renderFaces(cfg, selected.items, workers)) {
      const item = selected.items[k++];
      await writer.write({
        id: item.id,
        identity: item.identity,
        label: item.label,
        cleanLabel: item.cleanLabel,
        path: "",
        bytes: ppm,
        landmarks,
      });
      const now = performance.now();
      if (now - last > 2000) {
        last = now;
        await log.progress(`  rendered ${writer.rows} of ${selected.items.length} images`);
      }
    }
    await writer.close();
    const seconds = (performance.now() - started) / 1000;
    await log.line(
      `prepare: wrote ${writer.rows} images of ${selected.report.identities} identities ` +
        `(${(writer.rows / Math.max(seconds, 1e-3)).toFixed(0)} images/s)`,
    );
  } finally {
    await log.close();
  }
  return 0;
}

/** The pairs file text, checked before any image is rendered so mistakes fail fast. */
function pairsFile(
  cfg: SyntheticConfig,
  split: SyntheticSplit,
  flags: { folds: number; "pairs-per-fold": number | undefined },
): { text: string; folds: number; perFold: number } {
  if (split === "train") {
    throw new UsageError(
      "--pairs-out with --split train: the pairs identities are not in the train split; " +
        "write the pairs with --split pairs (or all)",
    );
  }
  const folds = checkRange("folds", flags.folds, { min: 1, max: 1000, integer: true });
  const pairs = splitIdentities(cfg).pairs.length;
  const most = pairs >= 2 * folds ? maxPairsPerFold(cfg, folds) : 0;
  if (most < 1) {
    throw new InputError(
      `${pairs} pairs identities (${cfg.identities} × --pairs-fraction ${cfg.pairsFraction}) ` +
        `cannot make ${folds} identity-disjoint folds with different-identity pairs`,
      `each fold needs 2 identities: raise --identities or --pairs-fraction, or lower --folds` +
        (cfg.perIdentity < 2 ? ", and give --per-identity ≥ 2" : ""),
    );
  }
  const perFold = flags["pairs-per-fold"] === undefined
    ? most
    : checkRange("pairs-per-fold", flags["pairs-per-fold"], { min: 1, max: most, integer: true });
  return { text: formatLfwPairs(syntheticPairs(cfg, { folds, perFold })), folds, perFold };
}
