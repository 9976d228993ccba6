// p2sgrad prepare: lists a dataset (identity folders, a list file, MXNet RecordIO) as an
// `images` stream, with filters, an identity-disjoint split, label noise and shards.
// `prepare synthetic …` is handed to the synthetic-face generator (prepare_synthetic.ts).
import { basename, join } from "@std/path";
import { joinLandmarks, parseLandmarks } from "../data/landmarks.ts";
import { listFromFile } from "../data/list.ts";
import { listFolder } from "../data/folder.ts";
import { listRecordIO } from "../data/recordio.ts";
import { selectImages, type SelectOptions } from "../data/select.ts";
import type { Candidate, Skips } from "../data/source.ts";
import { RecordStreamWriter } from "../format/stream.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log } from "./io.ts";
import type { Stage } from "./stage.ts";

const SYNTHETIC_MODULE = "./prepare_synthetic.ts";

const FLAGS = {
  format: {
    type: "string",
    arg: "KIND",
    default: "auto",
    help:
      "auto | folder | list | recordio (auto: a folder with train.rec is RecordIO, .rec files too)",
  },
  landmarks: {
    type: "string",
    arg: "FILE",
    help: "join 'path x1 y1 … x5 y5' lines to images by path",
  },
  "landmark-scale": {
    type: "number",
    arg: "S",
    default: 1,
    help: "multiply the landmark file's numbers by S",
  },
  "identity-pattern": {
    type: "string",
    arg: "REGEX",
    help:
      "identity = first capture group of REGEX on the relative path (default: the first folder)",
  },
  identities: {
    type: "string",
    arg: "FILE",
    help: "keep only the identities listed in FILE (one a line)",
  },
  "exclude-identities": { type: "string", arg: "FILE", help: "drop the identities listed in FILE" },
  "min-per-id": { type: "number", arg: "M", help: "drop identities with fewer than M images" },
  "max-per-id": {
    type: "number",
    arg: "M",
    help: "keep the first M images (by id) of each identity",
  },
  "max-ids": { type: "number", arg: "K", help: "keep the first K identities (in label order)" },
  split: { type: "string", arg: "PART", help: "train | val: an identity-disjoint part (seeded)" },
  "val-fraction": {
    type: "number",
    arg: "F",
    default: 0.1,
    help: "fraction of identities in the val part",
  },
  "label-noise": {
    type: "number",
    arg: "P",
    default: 0,
    help: "give a fraction P of images a random wrong label (clean_label keeps the true one)",
  },
  shard: { type: "string", arg: "K/N", help: "keep rows i with i mod N = K (labels stay global)" },
  seed: { type: "number", default: 0, help: "seed of the split and the label noise" },
} satisfies FlagSpec;

async function syntheticUsage(): Promise<string> {
  try {
    const mod = await import(SYNTHETIC_MODULE);
    return typeof mod.usage === "string" ? `\n\n${mod.usage}` : "";
  } catch {
    return "";
  }
}

const usage = `Usage: p2sgrad prepare [options] SRC > images.arrow
       p2sgrad prepare synthetic [options] > images.arrow

Lists a dataset as an images stream (id, identity, label, clean_label, path, bytes,
landmarks) on stdout. Labels are dense 0..C-1 over the identities kept, in sorted order
(numeric when every identity is a number). A summary goes to stderr.

SRC is one of
  a folder           ROOT/<identity>/<image> (jpg jpeg png pgm ppm bmp gif, or files
                     without extension that are images); ids are paths relative to ROOT
  a list file        'relative/path label [x1 y1 ... x5 y5]' lines, paths relative to it
  MXNet RecordIO     train.rec (with train.idx beside it), or a folder holding them;
                     insightface's header record (identity ranges) is used when present

Options:
${formatFlags(FLAGS)}

Examples:
  p2sgrad prepare data/lfw --landmarks data/lfw/lfw_landmark_150px.txt | p2sgrad align > lfw.arrow
  p2sgrad prepare data/lfw --landmarks data/lfw/lfw_landmark.txt --landmark-scale 0.6 \\
    --min-per-id 2 --split train --label-noise 0.2 --seed 1 | p2sgrad inspect --rows 3
  p2sgrad prepare data/celeba_subset_112x112/train_list.txt | p2sgrad align --mode resize
  p2sgrad prepare data/yalefaces --identity-pattern '^(subject[0-9]+)' | p2sgrad align --mode center${await syntheticUsage()}`;

export const stage: Stage = {
  name: "prepare",
  summary: "list a dataset (folder, list, RecordIO, LFW, synthetic) as an images stream",
  usage,
  run,
};

/** The first argument that is not an option or an option's value. */
function firstPositional(args: string[]): number {
  const spec: FlagSpec = FLAGS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") return i + 1 < args.length ? i + 1 : -1;
    if (!a.startsWith("-") || a === "-") return i;
    const name = a.replace(/^--?/, "");
    if (!name.includes("=") && spec[name] && spec[name].type !== "boolean") i++;
  }
  return -1;
}

async function runSynthetic(args: string[], io: Io): Promise<number> {
  let mod: { runSynthetic?: (args: string[], io: Io) => Promise<number> };
  try {
    mod = await import(SYNTHETIC_MODULE);
  } catch (err) {
    throw new InputError(
      `the synthetic-face source is not available (${SYNTHETIC_MODULE} did not load: ${
        (err as Error).message
      })`,
      "prepare a dataset folder, list file or RecordIO instead; see p2sgrad prepare --help",
    );
  }
  if (typeof mod.runSynthetic !== "function") {
    throw new InputError(`${SYNTHETIC_MODULE} does not export runSynthetic(args, io)`);
  }
  return await mod.runSynthetic(args, io);
}

async function run(args: string[], io: Io): Promise<number> {
  const at = firstPositional(args);
  if (at >= 0 && args[at] === "synthetic") {
    return runSynthetic([...args.slice(0, at), ...args.slice(at + 1)], io);
  }
  const { flags, positional } = parseFlags(args, FLAGS);
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0
        ? "missing SRC (a dataset folder, list file or .rec file)"
        : `expected one SRC, got ${positional.length}: ${positional.join(" ")}`,
    );
  }
  const src = positional[0];
  const select = await selectOptions(flags);
  const log = new Log(io.stderr, io.stderrIsTerminal);
  try {
    const { items, skips, kind, note, close } = await readSource(
      src,
      flags.format,
      flags["identity-pattern"],
    );
    try {
      await log.line(
        `prepare: ${src} (${kind}${note ? `, ${note}` : ""}): found ${items.length} images of ${
          new Set(items.map((i) => i.identity)).size
        } identities`,
      );
      if (skips.total > 0) {
        await log.line(`  skipped ${skips.total}:`);
        for (const line of skips.lines()) await log.line(line);
      }
      if (items.length === 0) throw noImages(src, kind, skips);
      if (flags.landmarks) await addLandmarks(items, flags.landmarks, flags["landmark-scale"], log);
      let selected;
      try {
        selected = selectImages(items, select);
      } catch (err) {
        throw new InputError(`${src}: ${(err as Error).message}`);
      }
      const { report } = selected;
      for (const r of report.removed) {
        await log.line(`  ${r.step}: removed ${r.images} images of ${r.identities} identities`);
      }
      if (report.noisy > 0) {
        await log.line(
          `  --label-noise ${
            flags["label-noise"]
          }: ${report.noisy} labels replaced by a wrong one (seed ${select.seed})`,
        );
      }
      if (selected.items.length === 0) {
        throw new InputError(
          `${src}: no images left after the filters`,
          "loosen --min-per-id, --identities, --split or --shard",
        );
      }
      const writer = new RecordStreamWriter(io.stdout, { kind: "images" });
      for (const item of selected.items) {
        await writer.write({
          id: item.id,
          identity: item.identity,
          label: item.label,
          cleanLabel: item.cleanLabel,
          path: item.path,
          bytes: item.readBytes ? await item.readBytes() : null,
          landmarks: item.landmarks,
        });
      }
      await writer.close();
      const labels = new Set(selected.items.map((i) => i.cleanLabel)).size;
      await log.line(`prepare: wrote ${writer.rows} images of ${labels} identities`);
    } finally {
      close();
    }
  } finally {
    await log.close();
  }
  return 0;
}

type Source = { items: Candidate[]; skips: Skips; kind: string; note?: string; close: () => void };

async function readSource(
  src: string,
  format: string,
  pattern: string | undefined,
): Promise<Source> {
  const info = await Deno.stat(src).catch(() => null);
  if (!info) {
    throw new InputError(
      `${src}: no such file or folder`,
      "give a dataset folder, a list file or a .rec file",
    );
  }
  let kind = format;
  let recPath = src;
  if (kind === "auto") {
    if (info.isDirectory) {
      const rec = join(src, "train.rec");
      kind = (await Deno.stat(rec).catch(() => null))?.isFile ? "recordio" : "folder";
      if (kind === "recordio") recPath = rec;
    } else kind = /\.(rec|idx)$/.test(src) ? "recordio" : "list";
  }
  if (kind === "recordio" && recPath.endsWith(".idx")) recPath = recPath.replace(/\.idx$/, ".rec");
  if (kind === "recordio" && info.isDirectory && recPath === src) recPath = join(src, "train.rec");
  const none = () => {};
  switch (kind) {
    case "folder": {
      if (!info.isDirectory) throw new InputError(`${src}: --format folder needs a folder`);
      let identityPattern: RegExp | undefined;
      if (pattern !== undefined) {
        try {
          identityPattern = new RegExp(pattern);
        } catch (err) {
          throw new UsageError(`--identity-pattern: ${(err as Error).message}`);
        }
      }
      return { ...(await listFolder(src, { identityPattern })), kind, close: none };
    }
    case "list":
      if (info.isDirectory) {
        throw new InputError(`${src}: --format list needs a list file, got a folder`);
      }
      return { ...(await listFromFile(src)), kind: `list ${basename(src)}`, close: none };
    case "recordio": {
      const { items, skips, reader, header } = await listRecordIO(recPath);
      return {
        items,
        skips,
        kind: `RecordIO ${basename(recPath)}`,
        note: header,
        close: () => reader.close(),
      };
    }
    default:
      throw new UsageError(
        `--format must be auto, folder, list or recordio, got ${JSON.stringify(format)}`,
      );
  }
}

function noImages(src: string, kind: string, skips: Skips): InputError {
  const top = skips.byReason.get("image at top level, not in an identity folder");
  if (top) {
    return new InputError(
      `${src}: no images in identity folders; ${top.count} images lie directly in it (e.g. ${
        top.examples[0]
      })`,
      `give the identity as part of the file name: --identity-pattern '^([^.]+)' (for Yale faces: '^(subject[0-9]+)')`,
    );
  }
  return new InputError(
    `${src}: no images found (read as ${kind})`,
    "expected ROOT/<identity>/<image>, a list file or train.rec",
  );
}

async function addLandmarks(
  items: Candidate[],
  file: string,
  scale: number,
  log: Log,
): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    throw new InputError(`${file}: cannot read the landmark file`, "check the --landmarks path");
  }
  const map = parseLandmarks(text, file, scale);
  const r = joinLandmarks(items, map);
  const eg = (list: string[]) => list.length ? ` (e.g. ${list.slice(0, 3).join(", ")})` : "";
  await log.line(
    `  landmarks ${basename(file)}${scale !== 1 ? ` ×${scale}` : ""}: ${r.joined} joined; ` +
      `${r.absentImages.length} listed for absent images${eg(r.absentImages)}; ` +
      `${r.withoutLandmarks.length} images without landmarks${eg(r.withoutLandmarks)}`,
  );
  if (r.joined === 0) {
    throw new InputError(
      `${file}: none of its ${map.size} paths matches an image id (first path ${
        JSON.stringify([...map.keys()][0])
      }, first id ${JSON.stringify(items[0]?.id)})`,
      "landmark paths must be relative to the dataset root, like the ids",
    );
  }
}

async function readNames(file: string, flag: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    throw new InputError(`${file}: cannot read the ${flag} file`);
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map(
    (l) => l.split(/\s+/)[0],
  );
  return new Set(names);
}

async function selectOptions(
  f: ReturnType<typeof parseFlags<typeof FLAGS>>["flags"],
): Promise<SelectOptions> {
  const opt: SelectOptions = {
    seed: checkRange("seed", f.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
  };
  if (f["min-per-id"] !== undefined) {
    opt.minPerId = checkRange("min-per-id", f["min-per-id"], { min: 1, integer: true });
  }
  if (f["max-per-id"] !== undefined) {
    opt.maxPerId = checkRange("max-per-id", f["max-per-id"], { min: 1, integer: true });
  }
  if (f["max-ids"] !== undefined) {
    opt.maxIds = checkRange("max-ids", f["max-ids"], { min: 1, integer: true });
  }
  if (f.split !== undefined) {
    if (f.split !== "train" && f.split !== "val") {
      throw new UsageError(`--split must be train or val, got ${JSON.stringify(f.split)}`);
    }
    opt.split = f.split;
  }
  opt.valFraction = checkRange("val-fraction", f["val-fraction"], { min: 0, max: 1 });
  opt.labelNoise = checkRange("label-noise", f["label-noise"], { min: 0, max: 1 });
  checkRange("landmark-scale", f["landmark-scale"], { min: Number.MIN_VALUE });
  if (f.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(f.shard);
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
      throw new UsageError(`--shard expects K/N with 0 <= K < N, got ${JSON.stringify(f.shard)}`);
    }
    opt.shard = { index: Number(m[1]), count: Number(m[2]) };
  }
  if (f.identities) opt.identities = await readNames(f.identities, "--identities");
  if (f["exclude-identities"]) {
    opt.excludeIdentities = await readNames(f["exclude-identities"], "--exclude-identities");
  }
  return opt;
}
