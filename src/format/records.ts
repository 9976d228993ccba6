// The three record kinds that flow between stages (DESIGN §3), as TypeScript types and
// Arrow schemas. One place defines the columns; readers and writers both use it.
import {
  Binary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Int32,
  Schema,
  Utf8,
} from "apache-arrow";

export const STREAM_VERSION = "1";
export type Kind = "images" | "faces" | "embeddings";

/** Which command produces each kind, for error messages that tell a person what to run. */
export const PRODUCER: Record<Kind, string> = {
  images: "p2sgrad prepare",
  faces: "p2sgrad align",
  embeddings: "p2sgrad embed",
};

/** An encoded image with its identity, before alignment. */
export interface ImageRecord {
  /** Unique; usually the path relative to the dataset root (LFW: `Name/Name_0001.jpg`). */
  id: string;
  identity: string;
  /** Dense 0..C−1 over the stream's identities; −1 when unknown. */
  label: number;
  /** The label before `--label-noise` replaced it (equal to `label` when not flipped). */
  cleanLabel: number;
  /** Absolute or working-directory-relative path of the file; "" when `bytes` holds it. */
  path: string;
  /** The encoded file, when the record carries it (RecordIO, synthetic); otherwise null. */
  bytes: Uint8Array | null;
  /** x1,y1..x5,y5 in source pixels: left eye, right eye, nose, left mouth, right mouth. */
  landmarks: Float32Array | null;
}

/** An aligned face crop, S×S RGB, row-major HWC. */
export interface FaceRecord {
  id: string;
  identity: string;
  label: number;
  cleanLabel: number;
  pixels: Uint8Array;
}

/** An L2-normalised embedding and the length it had before normalisation. */
export interface EmbeddingRecord {
  id: string;
  identity: string;
  label: number;
  embedding: Float32Array;
  norm: number;
}

export type RecordOf<K extends Kind> = K extends "images" ? ImageRecord
  : K extends "faces" ? FaceRecord
  : EmbeddingRecord;

/** Stream-level facts carried in the schema metadata. */
export interface StreamMeta {
  kind: Kind;
  /** Face side length in pixels (faces). */
  size?: number;
  /** Embedding dimension (embeddings). */
  dim?: number;
  /** Model file the embeddings came from (embeddings). */
  model?: string;
  /** Further `p2sgrad.*` keys a stage wants to pass on (e.g. flip). */
  extra?: Record<string, string>;
}

const common = () => [
  new Field("id", new Utf8(), false),
  new Field("identity", new Utf8(), false),
  new Field("label", new Int32(), false),
  new Field("clean_label", new Int32(), false),
];

/** The Arrow schema of a kind, with its `p2sgrad.*` metadata. */
export function schemaFor(meta: StreamMeta): Schema {
  const md = new Map<string, string>([
    ["p2sgrad.kind", meta.kind],
    ["p2sgrad.version", STREAM_VERSION],
  ]);
  for (const [k, v] of Object.entries(meta.extra ?? {})) md.set(`p2sgrad.${k}`, v);
  if (meta.kind === "images") {
    return new Schema([
      ...common(),
      new Field("path", new Utf8(), false),
      new Field("bytes", new Binary(), true),
      new Field("landmarks", new FixedSizeList(10, new Field("item", new Float32(), false)), true),
    ], md);
  }
  if (meta.kind === "faces") {
    const size = requirePositive(meta.size, "size");
    md.set("p2sgrad.size", String(size));
    return new Schema([
      ...common(),
      new Field("pixels", new FixedSizeBinary(size * size * 3), false),
    ], md);
  }
  const dim = requirePositive(meta.dim, "dim");
  md.set("p2sgrad.dim", String(dim));
  if (meta.model) md.set("p2sgrad.model", meta.model);
  return new Schema([
    new Field("id", new Utf8(), false),
    new Field("identity", new Utf8(), false),
    new Field("label", new Int32(), false),
    new Field("embedding", new FixedSizeList(dim, new Field("item", new Float32(), false)), false),
    new Field("norm", new Float32(), false),
  ], md);
}

function requirePositive(v: number | undefined, name: string): number {
  if (!v || !Number.isInteger(v) || v <= 0) throw new Error(`stream meta needs a positive ${name}`);
  return v;
}
