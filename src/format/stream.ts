// Arrow IPC record streams between stages: a writer that respects backpressure (each
// batch is awaited on the sink) and a reader that checks kind and version first and
// notices a stream cut short by a dying upstream stage.
import {
  Binary,
  type Data,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  type Schema,
  Struct,
  Utf8,
  type Vector,
  vectorFromArray,
} from "apache-arrow";
import { InputError } from "../cli/errors.ts";
import {
  type EmbeddingRecord,
  type FaceRecord,
  type ImageRecord,
  type Kind,
  PRODUCER,
  type RecordOf,
  schemaFor,
  STREAM_VERSION,
  type StreamMeta,
} from "./records.ts";

/** Rows per record batch unless a writer asks otherwise: "up to a few hundred rows". */
export const DEFAULT_BATCH_ROWS = 256;
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

// ---------------------------------------------------------------- columnar batches

interface BatchCommon {
  length: number;
  id: string[];
  identity: string[];
  label: Int32Array;
}
export interface ImagesBatch extends BatchCommon {
  cleanLabel: Int32Array;
  path: string[];
  bytes: (Uint8Array | null)[];
  landmarks: (Float32Array | null)[];
}
export interface FacesBatch extends BatchCommon {
  cleanLabel: Int32Array;
  /** length·S·S·3 bytes, row after row. */
  pixels: Uint8Array;
}
export interface EmbeddingsBatch extends BatchCommon {
  /** length·D floats, row after row. */
  embedding: Float32Array;
  norm: Float32Array;
}
export type BatchOf<K extends Kind> = K extends "images" ? ImagesBatch
  : K extends "faces" ? FacesBatch
  : EmbeddingsBatch;

// ---------------------------------------------------------------- writing

/** Writes records of one kind as an Arrow IPC stream, a batch at a time. */
export class RecordStreamWriter<K extends Kind> {
  readonly schema: Schema;
  #sink: WritableStreamDefaultWriter<Uint8Array>;
  #pending: RecordOf<K>[] = [];
  #schemaSent = false;
  #closed = false;
  rows = 0;

  constructor(
    sink: WritableStream<Uint8Array>,
    readonly meta: StreamMeta & { kind: K },
    readonly batchRows = DEFAULT_BATCH_ROWS,
  ) {
    this.schema = schemaFor(meta);
    this.#sink = sink.getWriter();
  }

  /** Queues one record; a full batch is encoded and written (awaiting the sink). */
  async write(record: RecordOf<K>): Promise<void> {
    this.#pending.push(record);
    if (this.#pending.length >= this.batchRows) await this.flush();
  }

  /** Writes the queued records as one batch now. */
  async flush(): Promise<void> {
    if (this.#pending.length === 0 && this.#schemaSent) return;
    const rows = this.#pending;
    this.#pending = [];
    await this.#writeBatch(buildBatch(this.schema, this.meta, rows));
    this.rows += rows.length;
  }

  /** Writes a batch built elsewhere (columnar fast path); must match this stream's schema. */
  async writeColumns(batch: BatchOf<K>): Promise<void> {
    await this.flush();
    await this.#writeBatch(buildColumnBatch(this.schema, this.meta, batch));
    this.rows += batch.length;
  }

  /** Ends the stream with the end-of-stream marker and closes the sink. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    await this.#sink.write(EOS);
    await this.#sink.close();
  }

  /** Lets go of the sink without the end marker (so readers see a truncated stream). */
  abort(): void {
    this.#closed = true;
    this.#sink.releaseLock();
  }

  async #writeBatch(batch: RecordBatch | null): Promise<void> {
    const { schemaBytes, batchBytes } = encodeBatch(this.schema, batch);
    if (!this.#schemaSent) {
      this.#schemaSent = true;
      await this.#sink.write(schemaBytes);
    }
    if (batchBytes.length > 0) await this.#sink.write(batchBytes);
  }
}

/**
 * Encodes one batch as IPC stream messages. apache-arrow's writer queues bytes internally
 * with no backpressure, so each batch is written through a fresh writer and the schema
 * prefix and end marker are cut off; the stream then goes out one awaited write at a time.
 */
function encodeBatch(schema: Schema, batch: RecordBatch | null) {
  const empty = new RecordBatchStreamWriter();
  empty.reset(undefined, schema);
  empty.finish();
  const head = empty.toUint8Array(true);
  const schemaBytes = head.subarray(0, head.length - EOS.length);
  if (!batch) return { schemaBytes, batchBytes: new Uint8Array(0) };
  const full = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  return { schemaBytes, batchBytes: full.subarray(schemaBytes.length, full.length - EOS.length) };
}

function utf8(values: string[]): Data {
  return vectorFromArray(values, new Utf8()).data[0];
}

function int32(values: Int32Array): Data {
  return makeData({ type: new Int32(), length: values.length, data: values });
}

function f32List(dim: number, values: Float32Array, length: number, valid?: Uint8Array): Data {
  const child = makeData({ type: new Float32(), length: length * dim, data: values });
  return makeData({
    type: new FixedSizeList(dim, new Field("item", new Float32(), false)),
    length,
    child,
    nullBitmap: valid,
  });
}

function bitmap(present: boolean[]): Uint8Array | undefined {
  if (present.every((p) => p)) return undefined;
  const bits = new Uint8Array(Math.ceil(present.length / 8));
  present.forEach((p, i) => p && (bits[i >> 3] |= 1 << (i & 7)));
  return bits;
}

function buildBatch(schema: Schema, meta: StreamMeta, rows: RecordOf<Kind>[]): RecordBatch | null {
  if (rows.length === 0) return null;
  const n = rows.length;
  const base = {
    length: n,
    id: rows.map((r) => r.id),
    identity: rows.map((r) => r.identity),
    label: Int32Array.from(rows, (r) => r.label),
  };
  if (meta.kind === "images") {
    const rs = rows as ImageRecord[];
    return buildColumnBatch(schema, meta, {
      ...base,
      cleanLabel: Int32Array.from(rs, (r) => r.cleanLabel),
      path: rs.map((r) => r.path),
      bytes: rs.map((r) => r.bytes),
      landmarks: rs.map((r) => r.landmarks),
    } as ImagesBatch);
  }
  if (meta.kind === "faces") {
    const rs = rows as FaceRecord[];
    const stride = meta.size! * meta.size! * 3;
    const pixels = new Uint8Array(n * stride);
    rs.forEach((r, i) => {
      if (r.pixels.length !== stride) {
        throw new Error(`face ${r.id}: ${r.pixels.length} pixel bytes, the stream needs ${stride}`);
      }
      pixels.set(r.pixels, i * stride);
    });
    return buildColumnBatch(schema, meta, {
      ...base,
      cleanLabel: Int32Array.from(rs, (r) => r.cleanLabel),
      pixels,
    } as FacesBatch);
  }
  const rs = rows as EmbeddingRecord[];
  const dim = meta.dim!;
  const embedding = new Float32Array(n * dim);
  rs.forEach((r, i) => embedding.set(r.embedding, i * dim));
  return buildColumnBatch(schema, meta, {
    ...base,
    embedding,
    norm: Float32Array.from(rs, (r) => r.norm),
  } as EmbeddingsBatch);
}

function buildColumnBatch(schema: Schema, meta: StreamMeta, b: BatchOf<Kind>): RecordBatch {
  const n = b.length;
  const children: Data[] = [utf8(b.id), utf8(b.identity), int32(b.label)];
  if (meta.kind === "images") {
    const ib = b as ImagesBatch;
    children.push(int32(ib.cleanLabel), utf8(ib.path));
    children.push(vectorFromArray(ib.bytes, new Binary()).data[0]);
    const lm = new Float32Array(n * 10);
    ib.landmarks.forEach((l, i) => l && lm.set(l, i * 10));
    children.push(f32List(10, lm, n, bitmap(ib.landmarks.map((l) => l !== null))));
  } else if (meta.kind === "faces") {
    const fb = b as FacesBatch;
    const width = meta.size! * meta.size! * 3;
    children.push(int32(fb.cleanLabel));
    children.push(makeData({ type: new FixedSizeBinary(width), length: n, data: fb.pixels }));
  } else {
    const eb = b as EmbeddingsBatch;
    children.push(f32List(meta.dim!, eb.embedding, n));
    children.push(makeData({ type: new Float32(), length: n, data: eb.norm }));
  }
  const data = makeData({ type: new Struct(schema.fields), length: n, children });
  return new RecordBatch(schema, data);
}

// ---------------------------------------------------------------- reading

/** An opened record stream: its metadata, then its batches or records. */
export interface RecordStream<K extends Kind> {
  meta: StreamMeta & { kind: K };
  /** Where it came from (file name or stdin), for messages. */
  source: string;
  /** The stream's own Arrow schema: its fields and every metadata entry, as the producer wrote them. */
  schema: Schema;
  batches(): AsyncGenerator<BatchOf<K>>;
  records(): AsyncGenerator<RecordOf<K>>;
}

/**
 * Opens an Arrow IPC stream and checks it holds `expect` records of our version.
 * A stream that ends without its end marker (the producer died) is an error.
 */
export async function openRecordStream<K extends Kind>(
  readable: ReadableStream<Uint8Array>,
  expect: K | readonly K[],
  source = "stdin",
): Promise<RecordStream<K>> {
  const wanted = (Array.isArray(expect) ? expect : [expect]) as K[];
  const what = wanted.map((k) =>
    `${k === "images" ? "an" : "a"} ${k} stream (made by \`${PRODUCER[k]}\`)`
  ).join(" or ");
  const tail = new Uint8Array(8);
  let seen = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of readable) {
      if (chunk.length >= 8) tail.set(chunk.subarray(chunk.length - 8));
      else {
        tail.copyWithin(0, chunk.length);
        tail.set(chunk, 8 - chunk.length);
      }
      seen += chunk.length;
      yield chunk;
    }
  }
  let reader: RecordBatchReader;
  try {
    reader = await RecordBatchReader.from(chunks());
    await reader.open();
  } catch (err) {
    if (seen === 0) {
      throw new InputError(
        `${source}: empty input, expected ${what}`,
        "did the stage before this one fail?",
      );
    }
    throw new InputError(
      `${source}: not an Arrow IPC record stream (${(err as Error).message})`,
      `expected ${what}`,
    );
  }
  if (reader.schema === undefined || reader.schema === null) {
    throw new InputError(
      `${source}: empty input, expected ${what}`,
      "did the stage before this one fail?",
    );
  }
  const md = reader.schema.metadata;
  const kindName = md.get("p2sgrad.kind");
  const version = md.get("p2sgrad.version");
  if (!kindName || !(kindName in PRODUCER)) {
    throw new InputError(
      `${source}: an Arrow stream without p2sgrad.kind metadata, expected ${what}`,
    );
  }
  const kind = kindName as Kind;
  if (!wanted.includes(kind as K)) {
    throw new InputError(
      `${source}: got ${kind === "images" ? "an" : "a"} ${kind} stream (made by \`${
        PRODUCER[kind]
      }\`), expected ${what}`,
      wantedHint(kind, wanted[0]),
    );
  }
  if (version !== STREAM_VERSION) {
    throw new InputError(
      `${source}: stream version ${version}, this p2sgrad reads version ${STREAM_VERSION}`,
    );
  }
  const extra: Record<string, string> = {};
  for (const [k, v] of md) {
    if (
      k.startsWith("p2sgrad.") && !["kind", "version", "size", "dim", "model"].includes(k.slice(8))
    ) {
      extra[k.slice(8)] = v;
    }
  }
  const meta = {
    kind: kind as K,
    size: md.has("p2sgrad.size") ? Number(md.get("p2sgrad.size")) : undefined,
    dim: md.has("p2sgrad.dim") ? Number(md.get("p2sgrad.dim")) : undefined,
    model: md.get("p2sgrad.model"),
    extra,
  };
  let used = false;
  async function* batches(): AsyncGenerator<BatchOf<K>> {
    if (used) throw new Error("a record stream can be read once");
    used = true;
    try {
      for await (const batch of reader) {
        if (batch.numRows > 0) yield decodeBatch(meta, batch) as BatchOf<K>;
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(
        `${source}: the ${kind} stream is corrupt or cut short (${(err as Error).message})`,
        `did the stage before this one fail?`,
      );
    }
    if (!tail.every((b, i) => b === EOS[i])) {
      throw new InputError(
        `${source}: the ${kind} stream ended without its end marker after ${seen} bytes`,
        `the stage that made it (\`${PRODUCER[kind]}\`) stopped early; see its error above`,
      );
    }
  }
  async function* records(): AsyncGenerator<RecordOf<K>> {
    for await (const b of batches()) yield* rowsOf(meta, b) as Iterable<RecordOf<K>>;
  }
  return { meta, source, schema: reader.schema, batches, records };
}

function wantedHint(got: Kind, want: Kind): string {
  const order: Kind[] = ["images", "faces", "embeddings"];
  const gi = order.indexOf(got), wi = order.indexOf(want);
  if (gi < wi) return `pipe it through \`${PRODUCER[order[gi + 1]]}\` first`;
  return `this command reads the output of \`${PRODUCER[want]}\``;
}

function strings(v: Vector | null, n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = (v?.get(i) as string | null) ?? "";
  return out;
}

function int32s(v: Vector | null, n: number, fallback?: Int32Array): Int32Array {
  if (!v) return fallback ?? new Int32Array(n).fill(-1);
  const arr = v.toArray();
  return arr instanceof Int32Array ? arr : Int32Array.from(arr as ArrayLike<number>);
}

function decodeBatch(meta: StreamMeta, batch: RecordBatch): BatchOf<Kind> {
  const n = batch.numRows;
  const label = int32s(batch.getChild("label"), n);
  const base = {
    length: n,
    id: strings(batch.getChild("id"), n),
    identity: strings(batch.getChild("identity"), n),
    label,
  };
  if (meta.kind === "images") {
    const bytesCol = batch.getChild("bytes");
    const lmCol = batch.getChild("landmarks");
    const bytes: (Uint8Array | null)[] = [];
    const landmarks: (Float32Array | null)[] = [];
    for (let i = 0; i < n; i++) {
      bytes.push((bytesCol?.get(i) as Uint8Array | null) ?? null);
      const l = lmCol?.get(i) as Vector | null;
      landmarks.push(l ? Float32Array.from(l.toArray() as Float32Array) : null);
    }
    return {
      ...base,
      cleanLabel: int32s(batch.getChild("clean_label"), n, label),
      path: strings(batch.getChild("path"), n),
      bytes,
      landmarks,
    };
  }
  if (meta.kind === "faces") {
    const col = batch.getChild("pixels");
    const width = meta.size! * meta.size! * 3;
    const pixels = new Uint8Array(n * width);
    let at = 0;
    for (const d of col!.data) {
      const v = d.values as Uint8Array;
      pixels.set(v.subarray(d.offset * width, (d.offset + d.length) * width), at);
      at += d.length * width;
    }
    return { ...base, cleanLabel: int32s(batch.getChild("clean_label"), n, label), pixels };
  }
  const dim = meta.dim!;
  const emb = new Float32Array(n * dim);
  let at = 0;
  for (const d of batch.getChild("embedding")!.data) {
    const child = d.children[0];
    const v = child.values as Float32Array;
    emb.set(
      v.subarray(child.offset + d.offset * dim, child.offset + (d.offset + d.length) * dim),
      at,
    );
    at += d.length * dim;
  }
  const norm = Float32Array.from(batch.getChild("norm")!.toArray() as Float32Array);
  return { ...base, embedding: emb, norm };
}

/** The rows of a decoded batch as records (pixels and embeddings are views, not copies). */
export function* rowsOf(meta: StreamMeta, b: BatchOf<Kind>): Generator<RecordOf<Kind>> {
  for (let i = 0; i < b.length; i++) {
    const base = { id: b.id[i], identity: b.identity[i], label: b.label[i] };
    if (meta.kind === "images") {
      const ib = b as ImagesBatch;
      yield {
        ...base,
        cleanLabel: ib.cleanLabel[i],
        path: ib.path[i],
        bytes: ib.bytes[i],
        landmarks: ib.landmarks[i],
      };
    } else if (meta.kind === "faces") {
      const fb = b as FacesBatch;
      const w = meta.size! * meta.size! * 3;
      yield {
        ...base,
        cleanLabel: fb.cleanLabel[i],
        pixels: fb.pixels.subarray(i * w, (i + 1) * w),
      };
    } else {
      const eb = b as EmbeddingsBatch;
      const d = meta.dim!;
      yield { ...base, embedding: eb.embedding.subarray(i * d, (i + 1) * d), norm: eb.norm[i] };
    }
  }
}
