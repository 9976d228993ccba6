// p2sgrad inspect: what a record stream holds — kind, metadata, schema, row count and the
// first rows as NDJSON (pixels, bytes and embeddings summarised) — or a PNG contact sheet.
import { fitInverse, resizeInverse } from "../align/face.ts";
import { applyAffine, invertAffine } from "../align/similarity.ts";
import { arcfaceTemplate } from "../align/template.ts";
import { warpAffine } from "../align/warp.ts";
import type { FaceRecord, ImageRecord, Kind } from "../format/records.ts";
import { openRecordStream, type RecordStream } from "../format/stream.ts";
import { decodeImage } from "../image/decode.ts";
import { encodePng } from "../image/png.ts";
import { contactSheet, LANDMARK_COLORS, type Tile } from "../image/sheet.ts";
import { describe, InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log, openInput } from "./io.ts";
import type { Stage } from "./stage.ts";

const FLAGS = {
  rows: {
    type: "number",
    arg: "N",
    help: "rows to print (default 5), or grid rows with --grid (default 8)",
  },
  grid: {
    type: "string",
    arg: "FILE.png",
    help: "write a contact sheet of the first faces instead",
  },
  cols: { type: "number", arg: "C", default: 8, help: "--grid: tiles per row" },
  "per-identity": {
    type: "number",
    arg: "M",
    help: "--grid: one identity per row, M of its images",
  },
  tile: {
    type: "number",
    arg: "T",
    help: "--grid: tile side in pixels (default: the face size, or 112)",
  },
  landmarks: {
    type: "boolean",
    help: "--grid: draw the 5 landmarks (images) or the template points (faces) as dots",
  },
} satisfies FlagSpec;

const usage = `Usage: p2sgrad inspect [options] [stream.arrow|-]

Prints what a record stream holds as NDJSON on stdout: first one object with the kind,
metadata, schema and row count, then the first --rows records (pixels, bytes and
embeddings shown as length, mean and first values). With --grid it writes a PNG contact
sheet instead (images are decoded and fitted into the tile; faces are shown as they are),
with the identity under each tile.

Options:
${formatFlags(FLAGS)}

Examples:
  p2sgrad prepare data/lfw | p2sgrad inspect --rows 2 | jq .
  p2sgrad inspect faces.arrow --grid sheet.png --per-identity 6 --rows 8 --landmarks
  p2sgrad prepare data/att_faces | p2sgrad inspect --grid att.png --cols 10 --rows 4`;

export const stage: Stage = {
  name: "inspect",
  summary: "show a stream's kind, schema, row count and first rows (NDJSON), or a contact sheet",
  usage,
  run,
};

const KINDS: Kind[] = ["images", "faces", "embeddings"];

async function run(args: string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags(args, FLAGS);
  if (positional.length > 1) {
    throw new UsageError(`expected at most one input, got ${positional.join(" ")}`);
  }
  const gridOnly = ["cols", "per-identity", "tile", "landmarks"].filter((f) =>
    args.some((a) => a.startsWith(`--${f}`))
  );
  if (!flags.grid && gridOnly.length > 0) {
    throw new UsageError(`--${gridOnly[0]} only applies with --grid`);
  }
  const input = await openInput(io, positional[0]);
  const stream = await openRecordStream(input.readable, KINDS, input.name);
  if (flags.grid) return await writeGrid(stream, flags, io);
  const rows = checkRange("rows", flags.rows ?? 5, { min: 0, integer: true });
  const first: Record<string, unknown>[] = [];
  let count = 0;
  for await (const record of stream.records()) {
    if (first.length < rows) first.push(rowJson(stream.meta.kind, record));
    count++;
  }
  const out = io.stdout.getWriter();
  const enc = new TextEncoder();
  const lines = [JSON.stringify(headerJson(stream, count)), ...first.map((r) => JSON.stringify(r))];
  try {
    await out.write(enc.encode(lines.join("\n") + "\n"));
    await out.close();
  } finally {
    out.releaseLock();
  }
  return 0;
}

/** The stream's own schema and metadata as its producer wrote them (extra fields included). */
function headerJson(stream: RecordStream<Kind>, rows: number): Record<string, unknown> {
  const metadata = Object.fromEntries(
    [...stream.schema.metadata].sort(([a], [b]) => a < b ? -1 : 1),
  );
  const schema = stream.schema.fields.map((f) => ({
    name: f.name,
    type: String(f.type),
    nullable: f.nullable,
  }));
  return { source: stream.source, kind: stream.meta.kind, metadata, schema, rows };
}

/** Length, mean and first values of a large column value, never the whole thing. */
function summary(
  values: Uint8Array | Float32Array,
): { length: number; mean: number; first: number[] } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const round = (v: number) => Number(v.toPrecision(6));
  return {
    length: values.length,
    mean: values.length ? round(sum / values.length) : 0,
    first: Array.from(values.subarray(0, 8), round),
  };
}

function rowJson(kind: Kind, record: unknown): Record<string, unknown> {
  const r = record as Record<string, unknown>;
  const base: Record<string, unknown> = { id: r.id, identity: r.identity, label: r.label };
  if (kind === "images") {
    const im = record as ImageRecord;
    return {
      ...base,
      clean_label: im.cleanLabel,
      path: im.path,
      bytes: im.bytes ? summary(im.bytes) : null,
      landmarks: im.landmarks ? Array.from(im.landmarks, (v) => Number(v.toPrecision(6))) : null,
    };
  }
  if (kind === "faces") {
    const f = record as FaceRecord;
    return { ...base, clean_label: f.cleanLabel, pixels: summary(f.pixels) };
  }
  const e = record as { embedding: Float32Array; norm: number };
  return { ...base, embedding: summary(e.embedding), norm: Number(e.norm.toPrecision(6)) };
}

// ---------------------------------------------------------------- contact sheet

type GridFlags = ReturnType<typeof parseFlags<typeof FLAGS>>["flags"];

/** What a tile is made from: a face's pixels, or an image record to decode. */
type Source = { identity: string; face?: Uint8Array; image?: ImageRecord };

async function writeGrid(stream: RecordStream<Kind>, flags: GridFlags, io: Io): Promise<number> {
  const { kind } = stream.meta;
  if (kind === "embeddings") {
    throw new InputError(
      `${stream.source}: an embeddings stream has no pictures for --grid`,
      "inspect the faces stream before p2sgrad embed",
    );
  }
  const perId = flags["per-identity"] === undefined
    ? undefined
    : checkRange("per-identity", flags["per-identity"], { min: 1, max: 64, integer: true });
  const cols = perId ?? checkRange("cols", flags.cols, { min: 1, max: 64, integer: true });
  const rows = checkRange("rows", flags.rows ?? 8, { min: 1, max: 256, integer: true });
  const faceSize = stream.meta.size ?? 112;
  const tile = checkRange("tile", flags.tile ?? faceSize, { min: 16, max: 512, integer: true });
  const grid = perId
    ? await pickPerIdentity(stream, perId, rows)
    : await pickFirst(stream, cols * rows, cols);
  const tiles: (Tile | null)[][] = [];
  for (const row of grid) {
    const out: (Tile | null)[] = [];
    for (const s of row) out.push(s ? await makeTile(s, tile, faceSize, flags.landmarks) : null);
    tiles.push(out);
  }
  const sheet = contactSheet(tiles, tile);
  try {
    await Deno.writeFile(flags.grid!, await encodePng(sheet));
  } catch (err) {
    throw new InputError(`${flags.grid}: cannot write the contact sheet (${describe(err)})`);
  }
  const n = grid.flat().filter((s) => s).length;
  const log = new Log(io.stderr, io.stderrIsTerminal);
  await log.line(
    `inspect: wrote ${flags.grid} (${sheet.width}×${sheet.height}: ${n} ${
      kind === "faces" ? "faces" : "images"
    } of ${new Set(grid.flat().filter((s) => s).map((s) => s!.identity)).size} identities)`,
  );
  await log.close();
  return 0;
}

function sourceOf(kind: Kind, record: unknown): Source {
  if (kind === "faces") {
    const f = record as FaceRecord;
    return { identity: f.identity, face: f.pixels.slice() };
  }
  const im = record as ImageRecord;
  return { identity: im.identity, image: im };
}

async function pickFirst(
  stream: RecordStream<Kind>,
  n: number,
  cols: number,
): Promise<(Source | null)[][]> {
  const picked: Source[] = [];
  for await (const record of stream.records()) {
    picked.push(sourceOf(stream.meta.kind, record));
    if (picked.length >= n) break;
  }
  const grid: (Source | null)[][] = [];
  for (let i = 0; i < picked.length; i += cols) grid.push(picked.slice(i, i + cols));
  return grid;
}

/** Rows of M images of one identity: the first identities to reach M, then the fullest others. */
async function pickPerIdentity(
  stream: RecordStream<Kind>,
  m: number,
  rows: number,
): Promise<(Source | null)[][]> {
  const byId = new Map<string, Source[]>();
  const full: string[] = [];
  const MAX_TRACKED = 4096; // bounds memory on streams where most identities have one image
  for await (const record of stream.records()) {
    const s = sourceOf(stream.meta.kind, record);
    let list = byId.get(s.identity);
    if (!list) {
      if (byId.size >= MAX_TRACKED) continue;
      byId.set(s.identity, list = []);
    }
    if (list.length >= m) continue;
    list.push(s);
    if (list.length === m) {
      full.push(s.identity);
      if (full.length >= rows) break;
    }
  }
  const partial = [...byId.keys()].filter((id) => byId.get(id)!.length < m)
    .sort((a, b) => byId.get(b)!.length - byId.get(a)!.length);
  return [...full, ...partial].slice(0, rows).map((id) => {
    const list: (Source | null)[] = byId.get(id)!;
    return [...list, ...new Array<null>(m - list.length).fill(null)];
  });
}

async function makeTile(
  s: Source,
  tile: number,
  faceSize: number,
  landmarks: boolean,
): Promise<Tile> {
  if (s.face) {
    const inv = resizeInverse(faceSize, faceSize, tile);
    const pixels = tile === faceSize
      ? s.face
      : warpAffine({ width: faceSize, height: faceSize, data: s.face }, inv, tile, tile);
    const dots = landmarks
      ? pointsToDots(applyAffine(invertAffine(inv), arcfaceTemplate(faceSize)))
      : undefined;
    return { pixels, caption: s.identity, dots };
  }
  const im = s.image!;
  let bytes = im.bytes;
  try {
    bytes ??= await Deno.readFile(im.path);
    const img = await decodeImage(bytes);
    const inv = fitInverse(img.width, img.height, tile);
    const pixels = warpAffine(img, inv, tile, tile);
    const dots = landmarks && im.landmarks
      ? pointsToDots(applyAffine(invertAffine(inv), im.landmarks))
      : undefined;
    return { pixels, caption: im.identity, dots };
  } catch (err) {
    throw new InputError(
      `record ${im.id} (${im.path || "bytes column"}): ${describe(err)}`,
      "p2sgrad align --on-error skip shows which records fail",
    );
  }
}

function pointsToDots(points: ArrayLike<number>): Tile["dots"] {
  const dots: NonNullable<Tile["dots"]> = [];
  for (let i = 0; i < 5; i++) {
    dots.push({ x: points[2 * i], y: points[2 * i + 1], color: LANDMARK_COLORS[i] });
  }
  return dots;
}
