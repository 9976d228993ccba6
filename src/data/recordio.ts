// MXNet RecordIO (insightface's train.rec + train.idx): a reader, and a writer the tests use.
//
// Layout (dmlc-core recordio): each record is one or more parts, each part is
//   uint32 magic 0xced7230a | uint32 lrec (cflag = lrec >> 29, length = lrec & 0x1fffffff)
//   | payload (length bytes) | zero padding to a multiple of 4.
// cflag 0 = whole record; 1/2/3 = first/middle/last part of a record whose payload contained
// the magic word at a 4-aligned offset: the writer splits there and drops the magic, the
// reader puts it back between parts. The payload is an IRHeader
//   uint32 flag | float32 label | uint64 id | uint64 id2   (24 bytes, little-endian)
// then, when flag > 0, `flag` float32 labels, then the encoded image. In insightface sets
// record 0 is a header whose labels are [first identity record, end) and each identity record
// holds [first image record, end); images are records 1 … first identity record − 1.
import { basename } from "@std/path";
import { InputError } from "../cli/errors.ts";
import { type Candidate, Skips } from "./source.ts";

export const RECORDIO_MAGIC = 0xced7230a;
const IR_SIZE = 24;
const LENGTH_MASK = (1 << 29) - 1;

export interface IRHeader {
  flag: number;
  /** One label, or `flag` labels when flag > 0. */
  label: number | Float32Array;
  id: bigint;
  id2: bigint;
}

/** Packs a header and image as MXNet's recordio.pack does (an array label sets flag). */
export function packIR(header: Omit<IRHeader, "flag">, image: Uint8Array): Uint8Array {
  const labels = typeof header.label === "number" ? null : header.label;
  const extra = labels ? labels.length * 4 : 0;
  const out = new Uint8Array(IR_SIZE + extra + image.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, labels ? labels.length : 0, true);
  v.setFloat32(4, labels ? 0 : (header.label as number), true);
  v.setBigUint64(8, header.id, true);
  v.setBigUint64(16, header.id2, true);
  if (labels) {
    new Uint8Array(out.buffer, IR_SIZE, extra).set(
      new Uint8Array(labels.buffer, labels.byteOffset, extra),
    );
  }
  out.set(image, IR_SIZE + extra);
  return out;
}

/** Splits a record payload into its header and the image bytes (a view, not a copy). */
export function unpackIR(
  payload: Uint8Array,
  where = "record",
): { header: IRHeader; image: Uint8Array } {
  if (payload.length < IR_SIZE) {
    throw new InputError(`${where}: ${payload.length} bytes, shorter than an IRHeader (24)`);
  }
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const flag = v.getUint32(0, true);
  let label: number | Float32Array = v.getFloat32(4, true);
  let at = IR_SIZE;
  if (flag > 0) {
    if (IR_SIZE + flag * 4 > payload.length) {
      throw new InputError(
        `${where}: header says ${flag} labels, the record holds ${payload.length} bytes`,
      );
    }
    label = new Float32Array(flag);
    for (let i = 0; i < flag; i++) label[i] = v.getFloat32(IR_SIZE + 4 * i, true);
    at += flag * 4;
  }
  return {
    header: { flag, label, id: v.getBigUint64(8, true), id2: v.getBigUint64(16, true) },
    image: payload.subarray(at),
  };
}

/** Frames one payload as RecordIO parts (splitting at 4-aligned magic words, as dmlc does). */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  const parts: { cflag: number; start: number; end: number }[] = [];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let start = 0;
  for (let i = 0; i + 4 <= payload.length; i += 4) {
    if (view.getUint32(i, true) === RECORDIO_MAGIC) {
      parts.push({ cflag: start === 0 ? 1 : 2, start, end: i });
      start = i + 4;
    }
  }
  parts.push({ cflag: start === 0 ? 0 : 3, start, end: payload.length });
  const size = parts.reduce((s, p) => s + 8 + ((p.end - p.start + 3) & ~3), 0);
  const out = new Uint8Array(size);
  const ov = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    const len = p.end - p.start;
    ov.setUint32(at, RECORDIO_MAGIC, true);
    ov.setUint32(at + 4, ((p.cflag << 29) | len) >>> 0, true);
    out.set(payload.subarray(p.start, p.end), at + 8);
    at += 8 + ((len + 3) & ~3);
  }
  return out;
}

/** A whole .rec file and its .idx text for records written in order under the given keys. */
export function writeRecordIO(
  payloads: Uint8Array[],
  keys?: number[],
): { rec: Uint8Array; idx: string } {
  const framed = payloads.map(encodeRecord);
  const rec = new Uint8Array(framed.reduce((s, f) => s + f.length, 0));
  const lines: string[] = [];
  let at = 0;
  framed.forEach((f, i) => {
    lines.push(`${keys ? keys[i] : i}\t${at}`);
    rec.set(f, at);
    at += f.length;
  });
  return { rec, idx: lines.join("\n") + "\n" };
}

/** Parses an .idx file: `key<TAB>offset` lines. */
export function parseIdx(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const m = /^(\d+)\s+(\d+)$/.exec(line);
    if (!m) {
      throw new InputError(
        `${name}:${i + 1}: expected 'key<TAB>offset', got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** Random access to the records of a .rec file through its .idx. */
export class RecordIOReader {
  private constructor(
    readonly recPath: string,
    readonly offsets: Map<number, number>,
    private readonly file: Deno.FsFile,
    readonly size: number,
  ) {}

  static async open(
    recPath: string,
    idxPath = recPath.replace(/\.rec$/, "") + ".idx",
  ): Promise<RecordIOReader> {
    let idxText: string;
    try {
      idxText = await Deno.readTextFile(idxPath);
    } catch {
      throw new InputError(
        `${idxPath}: cannot read the RecordIO index`,
        `the .idx file must sit beside ${recPath}`,
      );
    }
    const offsets = parseIdx(idxText, idxPath);
    const file = await Deno.open(recPath, { read: true });
    const size = (await file.stat()).size;
    return new RecordIOReader(recPath, offsets, file, size);
  }

  /** Record keys in ascending order. */
  get keys(): number[] {
    return [...this.offsets.keys()].sort((a, b) => a - b);
  }

  /** The payload of record `key`, parts joined; reads `limit` bytes of it at most. */
  async read(key: number, limit = Infinity): Promise<Uint8Array> {
    const where = `${this.recPath} record ${key}`;
    let at = this.offsets.get(key);
    if (at === undefined) throw new InputError(`${where}: not in the index`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const head = await this.#readAt(at, 8, where);
      const hv = new DataView(head.buffer);
      if (hv.getUint32(0, true) !== RECORDIO_MAGIC) {
        throw new InputError(
          `${where}: no RecordIO magic at byte ${at}`,
          "is the .idx file from this .rec?",
        );
      }
      const lrec = hv.getUint32(4, true);
      const cflag = lrec >>> 29, len = lrec & LENGTH_MASK;
      if (chunks.length === 0 && (cflag === 2 || cflag === 3)) {
        throw new InputError(`${where}: starts with a continuation part (flag ${cflag})`);
      }
      const want = Math.min(len, Math.max(0, limit - total));
      if (want > 0) chunks.push(await this.#readAt(at + 8, want, where));
      total += want;
      at += 8 + ((len + 3) & ~3);
      if (cflag === 0 || cflag === 3 || total >= limit) break;
      const magic = new Uint8Array(4);
      new DataView(magic.buffer).setUint32(0, RECORDIO_MAGIC, true);
      chunks.push(magic);
      total += 4;
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  async #readAt(offset: number, length: number, where: string): Promise<Uint8Array> {
    if (offset + length > this.size) {
      throw new InputError(
        `${where}: needs bytes ${offset}…${offset + length}, the file has ${this.size}`,
        "the .rec file is truncated",
      );
    }
    await this.file.seek(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await this.file.read(buf.subarray(got));
      if (n === null) throw new InputError(`${where}: unexpected end of file`);
      got += n;
    }
    return buf;
  }

  close(): void {
    this.file.close();
  }
}

/** The class of an image record: its label, or its first label when it has several. */
function classOf(header: IRHeader, where: string): number {
  const v = typeof header.label === "number" ? header.label : header.label[0];
  if (!Number.isInteger(v) || v < 0) {
    throw new InputError(`${where}: label ${v} is not a class number`);
  }
  return v;
}

/**
 * Candidates of a RecordIO file: one per image record, identity = its class number, id =
 * `<file>:<key>`, bytes read lazily. Uses insightface's header record when there is one.
 */
export async function listRecordIO(
  recPath: string,
): Promise<{ items: Candidate[]; skips: Skips; reader: RecordIOReader; header: string }> {
  const reader = await RecordIOReader.open(recPath);
  const skips = new Skips();
  const name = basename(recPath);
  let imageKeys = reader.keys;
  let header = "no header record: every record is an image";
  // Labels hold at most a few floats; 4 KiB covers the header of any record.
  const peek = async (key: number) =>
    unpackIR(await reader.read(key, 4096), `${recPath} record ${key}`).header;
  let ranges: { identity: number; start: number; end: number }[] = [];
  if (reader.offsets.has(0)) {
    const h0 = await peek(0);
    if (h0.flag > 0 && typeof h0.label !== "number" && h0.label.length >= 2) {
      const [idStart, idEnd] = [h0.label[0], h0.label[1]];
      if (
        Number.isInteger(idStart) && Number.isInteger(idEnd) && idStart >= 1 && idEnd >= idStart
      ) {
        imageKeys = imageKeys.filter((k) => k >= 1 && k < idStart);
        header = `insightface header: images 1…${idStart - 1}, identity records ${idStart}…${
          idEnd - 1
        }`;
        for (let k = idStart; k < idEnd; k++) {
          if (!reader.offsets.has(k)) continue;
          const h = await peek(k);
          if (typeof h.label !== "number" && h.label.length >= 2) {
            ranges.push({ identity: k - idStart, start: h.label[0], end: h.label[1] });
          }
        }
      }
    }
  }
  ranges = ranges.sort((a, b) => a.start - b.start);
  const items: Candidate[] = [];
  let r = 0;
  for (const key of imageKeys) {
    const where = `${recPath} record ${key}`;
    const h = await peek(key);
    const cls = classOf(h, where);
    // Identity records say which images each class holds; a label that disagrees is a broken file.
    while (r < ranges.length && ranges[r].end <= key) r++;
    if (r < ranges.length && ranges[r].start <= key && ranges[r].identity !== cls) {
      skips.add(
        `label disagrees with the identity records`,
        `${name}:${key} (label ${cls}, range says ${ranges[r].identity})`,
      );
      continue;
    }
    items.push({
      id: `${name}:${key}`,
      identity: String(cls),
      path: "",
      landmarks: null,
      readBytes: async () => unpackIR(await reader.read(key), where).image.slice(),
    });
  }
  return { items, skips, reader, header };
}
