// Model files in the safetensors format: an 8-byte little-endian header length, a JSON
// header (dtype, shape, data_offsets per tensor, plus `__metadata__` strings), then raw
// little-endian tensor bytes. Bytes are deterministic and laid out like huggingface's
// reference serializer (tensors by descending dtype alignment, then name; header padded
// with spaces to 8 bytes), so a file written here matches what `safetensors.torch`
// writes for the same tensors and PyTorch state dicts load here without renaming.
import { InputError } from "../cli/errors.ts";

/** Element types in the reference implementation's order (ascending alignment; ties by this order). */
export const DTYPES = [
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "F64",
  "I64",
  "U64",
] as const;
export type Dtype = typeof DTYPES[number];

const DTYPE_BYTES: Record<Dtype, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** One stored tensor: its raw little-endian bytes, row-major ("C" order). */
export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

export interface SafetensorsContent {
  /** Tensors in file order (offset order). */
  tensors: Map<string, TensorEntry>;
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
}

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: Dtype): number {
  return DTYPE_BYTES[dtype];
}

/** An F32 entry holding a copy of `values` (little-endian on every platform). */
export function f32Entry(shape: readonly number[], values: ArrayLike<number>): TensorEntry {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) {
    throw new Error(
      `f32Entry: ${values.length} values for shape [${shape.join(", ")}] (${n} elements)`,
    );
  }
  const data = new Uint8Array(n * 4);
  const view = new DataView(data.buffer);
  for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i], true);
  return { dtype: "F32", shape: [...shape], data };
}

/** An I64 entry (e.g. BatchNorm's `num_batches_tracked`). */
export function i64Entry(shape: readonly number[], values: readonly bigint[]): TensorEntry {
  const data = new Uint8Array(values.length * 8);
  const view = new DataView(data.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return { dtype: "I64", shape: [...shape], data };
}

/**
 * The values of a floating-point entry as f32 (F32 as stored; F16, BF16 widened; F64
 * rounded). `name` and `source` go into the error for any other dtype.
 */
export function toFloat32(entry: TensorEntry, name: string, source: string): Float32Array {
  const n = elementCount(entry.shape);
  const view = new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
  const out = new Float32Array(n);
  switch (entry.dtype) {
    case "F32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case "F64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case "BF16": {
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        word.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = word.getFloat32(0);
      }
      return out;
    }
    default:
      throw new InputError(
        `${source}: tensor '${name}' has dtype ${entry.dtype}, expected a float type (F32, F16, BF16 or F64)`,
        "re-export the weights as floating point (e.g. `model.float().state_dict()`)",
      );
  }
}

/** The values of an integer entry as numbers (I64/U64 must fit 2^53). */
export function toIntegers(entry: TensorEntry, name: string, source: string): number[] {
  const n = elementCount(entry.shape);
  const view = new DataView(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (entry.dtype) {
      case "I64":
        out.push(Number(view.getBigInt64(i * 8, true)));
        break;
      case "U64":
        out.push(Number(view.getBigUint64(i * 8, true)));
        break;
      case "I32":
        out.push(view.getInt32(i * 4, true));
        break;
      case "U32":
        out.push(view.getUint32(i * 4, true));
        break;
      default:
        throw new InputError(
          `${source}: tensor '${name}' has dtype ${entry.dtype}, expected an integer type`,
        );
    }
  }
  return out;
}

/**
 * Serialises tensors and metadata into safetensors bytes, deterministically: metadata
 * keys sorted, tensors ordered by descending dtype alignment then name (the reference
 * serializer's order), the header padded with spaces to a multiple of 8 bytes.
 */
export function encodeSafetensors(
  tensors: Map<string, TensorEntry> | Record<string, TensorEntry>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  entries.sort(([an, a], [bn, b]) =>
    DTYPES.indexOf(b.dtype) - DTYPES.indexOf(a.dtype) || (an < bn ? -1 : an > bn ? 1 : 0)
  );
  const header: Record<string, unknown> = {};
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length > 0) {
    const meta: Record<string, string> = {};
    for (const k of metaKeys) {
      if (typeof metadata[k] !== "string") {
        throw new Error(`safetensors metadata '${k}' must be a string`);
      }
      meta[k] = metadata[k];
    }
    header.__metadata__ = meta;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") {
      throw new Error("safetensors: '__metadata__' is not a valid tensor name");
    }
    const want = elementCount(t.shape) * dtypeBytes(t.dtype);
    if (t.data.byteLength !== want) {
      throw new Error(
        `safetensors: tensor '${name}' has ${t.data.byteLength} bytes, but ${t.dtype}[${
          t.shape.join(", ")
        }] needs ${want}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    offset += want;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - json.length % 8) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of entries) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}

/** The reference implementation's cap on the header size. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parses safetensors bytes, checking what the reference reader checks (header length,
 * JSON, dtypes, shapes against byte ranges, offsets contiguous and covering the file).
 * `source` (usually the path) names the file in errors. Tensor data are views into `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  const fail = (what: string): never => {
    throw new InputError(
      `${source}: not a valid safetensors file: ${what}`,
      "write it with safetensors' save_file or `p2sgrad train`",
    );
  };
  if (bytes.byteLength < 8) {
    fail(`only ${bytes.byteLength} bytes (the header length alone takes 8)`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.byteLength) {
    fail(`header length ${headerLen} runs past the end of the file (${bytes.byteLength} bytes)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (err) {
    fail(`header is not UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    fail("header is not a JSON object");
  }
  const header = parsed as Record<string, unknown>;
  const metadata: Record<string, string> = {};
  const rawMeta = header.__metadata__;
  if (rawMeta !== undefined) {
    if (typeof rawMeta !== "object" || rawMeta === null || Array.isArray(rawMeta)) {
      fail("__metadata__ is not an object");
    }
    for (const [k, v] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof v !== "string") fail(`__metadata__ value '${k}' is not a string`);
      metadata[k] = v as string;
    }
  }
  const infos: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) fail(`tensor '${name}' has no description`);
    if (!DTYPES.includes(info.dtype as Dtype)) {
      fail(`tensor '${name}' has unknown dtype ${JSON.stringify(info.dtype)}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = info.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    infos.push({ name, dtype: info.dtype as Dtype, shape: shape as number[], begin, end });
  }
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerLen;
  let expect = 0;
  const tensors = new Map<string, TensorEntry>();
  for (const t of infos) {
    if (t.begin !== expect || t.end < t.begin) {
      fail(
        `tensor '${t.name}' has data_offsets [${t.begin}, ${t.end}], expected to start at ${expect}`,
      );
    }
    const want = elementCount(t.shape) * dtypeBytes(t.dtype);
    if (t.end - t.begin !== want) {
      fail(
        `tensor '${t.name}' spans ${t.end - t.begin} bytes, but ${t.dtype}[${
          t.shape.join(", ")
        }] needs ${want}`,
      );
    }
    expect = t.end;
    tensors.set(t.name, {
      dtype: t.dtype,
      shape: t.shape,
      data: bytes.subarray(dataStart + t.begin, dataStart + t.end),
    });
  }
  if (dataStart + expect !== bytes.byteLength) {
    fail(
      `the tensors cover ${expect} data bytes but the file holds ${
        bytes.byteLength - dataStart
      } (truncated or trailing bytes)`,
    );
  }
  return { tensors, metadata };
}

/** Reads and parses a safetensors file; errors name the path. */
export async function readSafetensors(path: string): Promise<SafetensorsContent> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new InputError(
      `${path}: cannot read the model file (${(err as Error).message})`,
      "check the path given to --model",
    );
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Writes a safetensors file through a temporary name and a rename, so a crash never
 * leaves a half-written model behind.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, TensorEntry> | Record<string, TensorEntry>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Writes `bytes` to `path` via a temporary file in the same folder and a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new InputError(`${path}: cannot write the file (${(err as Error).message})`);
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE half → number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
