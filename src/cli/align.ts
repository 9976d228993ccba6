// p2sgrad align: decodes the images of an `images` stream and warps each to an S×S RGB face
// (5-point similarity to the ArcFace template, centre crop, or resize) as a `faces` stream.
import { ALIGN_MODES, AlignError, alignFace, type AlignMode } from "../align/face.ts";
import { decodeImage } from "../image/decode.ts";
import { DecodeError } from "../image/image.ts";
import { type ImagesBatch, openRecordStream, RecordStreamWriter } from "../format/stream.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log, openInput } from "./io.ts";
import type { Stage } from "./stage.ts";

const FLAGS = {
  mode: {
    type: "string",
    arg: "MODE",
    default: "landmarks",
    help: "landmarks (5-point similarity to the template) | center (centre crop, resize) | resize",
  },
  size: {
    type: "number",
    arg: "S",
    default: 112,
    help: "side of the face crop in pixels (template scaled by S/112)",
  },
  crop: {
    type: "number",
    arg: "N",
    help: "--mode center: side of the centred square (default: the shorter side)",
  },
  "on-error": {
    type: "string",
    arg: "WHAT",
    default: "fail",
    help: "fail | skip: what a missing or corrupt image does (skips are listed on stderr)",
  },
} satisfies FlagSpec;

const usage = `Usage: p2sgrad align [options] [images.arrow|-] > faces.arrow

Reads an images stream (from p2sgrad prepare), decodes each image (JPEG, PNG, PGM/PPM,
BMP, GIF; grey becomes RGB) and writes an S×S RGB face per record as a faces stream.
Modes: 'landmarks' fits a least-squares similarity (Umeyama) from the record's 5 points to
the ArcFace template and warps bilinearly, as insightface does; 'center' takes a centred
square and scales it (for pre-aligned or un-annotated images); 'resize' stretches the whole
image (for crops aligned at another size). Image paths are read relative to the current folder.

Options:
${formatFlags(FLAGS)}

Examples:
  p2sgrad prepare data/lfw --landmarks data/lfw/lfw_landmark_150px.txt | p2sgrad align > lfw_faces.arrow
  p2sgrad prepare data/celeba_subset_112x112/train_list.txt | p2sgrad align --mode resize --size 96
  p2sgrad prepare data/att_faces | p2sgrad align --mode center --crop 92 --on-error skip`;

export const stage: Stage = {
  name: "align",
  summary: "decode and align images to faces (5-point template, centre crop or resize)",
  usage,
  run,
};

/** A record's encoded image, or why it could not be read. */
type Fetched = { bytes: Uint8Array } | { error: string; hint?: string };

/** Starts reading every row's file now, so disk reads overlap the decoding of the batch before. */
function fetchAll(batch: ImagesBatch): Promise<Fetched>[] {
  return batch.path.map((path, i) => {
    const inline = batch.bytes[i];
    if (inline && inline.length > 0) return Promise.resolve({ bytes: inline });
    if (!path) return Promise.resolve({ error: "has neither a path nor bytes" });
    return Deno.readFile(path).then(
      (bytes) => ({ bytes }),
      (err) =>
        err instanceof Deno.errors.NotFound
          ? {
            error: `${path}: no such file`,
            hint: "image paths are relative to the folder prepare ran in",
          }
          : { error: `${path}: ${(err as Error).message}` },
    );
  });
}

async function run(args: string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags(args, FLAGS);
  if (positional.length > 1) {
    throw new UsageError(`expected at most one input, got ${positional.join(" ")}`);
  }
  if (!ALIGN_MODES.includes(flags.mode as AlignMode)) {
    throw new UsageError(
      `--mode must be one of ${ALIGN_MODES.join(", ")}, got ${JSON.stringify(flags.mode)}`,
    );
  }
  const mode = flags.mode as AlignMode;
  const size = checkRange("size", flags.size, { min: 8, max: 1024, integer: true });
  if (flags.crop !== undefined && mode !== "center") {
    throw new UsageError("--crop only applies to --mode center");
  }
  const crop = flags.crop === undefined
    ? undefined
    : checkRange("crop", flags.crop, { min: 1, integer: true });
  if (flags["on-error"] !== "fail" && flags["on-error"] !== "skip") {
    throw new UsageError(
      `--on-error must be fail or skip, got ${JSON.stringify(flags["on-error"])}`,
    );
  }
  const skipErrors = flags["on-error"] === "skip";

  const input = await openInput(io, positional[0]);
  const stream = await openRecordStream(input.readable, "images", input.name);
  const log = new Log(io.stderr, io.stderrIsTerminal);
  const writer = new RecordStreamWriter(io.stdout, {
    kind: "faces",
    size,
    extra: { align_mode: mode },
  });
  const faceBytes = size * size * 3;
  const skipped: string[] = [];
  const started = performance.now();
  let seen = 0;
  try {
    const batches = stream.batches();
    let next = await batches.next();
    let reads = next.done ? null : fetchAll(next.value);
    while (!next.done && reads) {
      const batch = next.value, fetched = reads;
      next = await batches.next();
      reads = next.done ? null : fetchAll(next.value);
      const pixels = new Uint8Array(batch.length * faceBytes);
      const keep: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const where = `record ${batch.id[i]}${batch.path[i] ? ` (${batch.path[i]})` : ""}`;
        const got = await fetched[i];
        let problem: { error: string; hint?: string } | null = null;
        if ("error" in got) problem = got;
        else {
          try {
            const img = await decodeImage(got.bytes);
            alignFace(
              img,
              batch.landmarks[i],
              { mode, size, crop },
              pixels,
              keep.length * faceBytes,
            );
          } catch (err) {
            if (err instanceof DecodeError) {
              problem = { error: err.message, hint: "--on-error skip leaves it out" };
            } else if (err instanceof AlignError) problem = { error: err.message, hint: err.hint };
            else throw err;
          }
        }
        if (problem) {
          if (!skipErrors) {
            throw new InputError(
              `${where}: ${problem.error}`,
              problem.hint ?? "--on-error skip leaves it out",
            );
          }
          skipped.push(`${batch.id[i]}: ${problem.error}`);
          continue;
        }
        keep.push(i);
      }
      seen += batch.length;
      if (keep.length > 0) {
        await writer.writeColumns({
          length: keep.length,
          id: keep.map((i) => batch.id[i]),
          identity: keep.map((i) => batch.identity[i]),
          label: Int32Array.from(keep, (i) => batch.label[i]),
          cleanLabel: Int32Array.from(keep, (i) => batch.cleanLabel[i]),
          pixels: pixels.subarray(0, keep.length * faceBytes),
        });
      }
      if (io.stderrIsTerminal) await log.progress(`align: ${seen} images, ${writer.rows} faces`);
    }
    await writer.close();
    const seconds = (performance.now() - started) / 1000;
    await log.line(
      `align: ${writer.rows} faces ${size}×${size} (mode ${mode}) from ${seen} images in ${
        seconds.toFixed(1)
      } s ` +
        `(${Math.round(seen / Math.max(seconds, 1e-9))} images/s)${
          skipped.length ? `; ${skipped.length} skipped:` : ""
        }`,
    );
    for (const s of skipped.slice(0, 20)) await log.line(`  skipped ${s}`);
    if (skipped.length > 20) await log.line(`  … and ${skipped.length - 20} more`);
  } finally {
    await log.close();
  }
  return 0;
}
