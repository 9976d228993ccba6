// The safetensors codec against the reference implementation's own byte-level test
// vectors (huggingface/safetensors, safetensors/src/tensor.rs), round trips, dtype
// conversions and every rejection path.
import { assertEquals, assertThrows } from "@std/assert";
import { InputError } from "../cli/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Entry,
  i64Entry,
  readSafetensors,
  type TensorEntry,
  toFloat32,
  toIntegers,
  writeSafetensors,
} from "./safetensors.ts";

const ascii = (s: string) => [...new TextEncoder().encode(s)];
const le64 = (n: number) => [n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0];

Deno.test("safetensors: bytes match the reference serializer's test vectors", () => {
  const values = [0, 1, 2, 3, 4, 5];
  // test_serialization: a 64-byte header needs no padding.
  const h1 = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
  assertEquals(h1.length, 64);
  const out1 = encodeSafetensors({ "attn.0": f32Entry([1, 2, 3], values) });
  assertEquals([...out1.subarray(0, 8 + 64)], [...le64(64), ...ascii(h1)]);
  assertEquals([...out1.subarray(72)], [
    0,
    0,
    0,
    0,
    0,
    0,
    128,
    63,
    0,
    0,
    0,
    64,
    0,
    0,
    64,
    64,
    0,
    0,
    128,
    64,
    0,
    0,
    160,
    64,
  ]);
  // test_serialization_forced_alignement: a 65-byte header gets 7 spaces.
  const h2 = `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`;
  const out2 = encodeSafetensors({ attn0: f32Entry([1, 1, 2, 3], values) });
  assertEquals([...out2.subarray(0, 8 + 72)], [
    ...le64(72),
    ...ascii(h2),
    32,
    32,
    32,
    32,
    32,
    32,
    32,
  ]);
  // test_empty, with and without metadata.
  assertEquals([...encodeSafetensors({})], [
    8,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    123,
    125,
    32,
    32,
    32,
    32,
    32,
    32,
  ]);
  assertEquals(
    [...encodeSafetensors({}, { framework: "pt" })],
    [...le64(40), ...ascii(`{"__metadata__":{"framework":"pt"}}`), 32, 32, 32, 32, 32],
  );
});

Deno.test("safetensors: deterministic layout (dtype alignment, then name) regardless of insertion order", () => {
  const a: Record<string, TensorEntry> = {
    "layer1.0.bn1.weight": f32Entry([2], [1, 2]),
    "bn1.num_batches_tracked": i64Entry([], [7n]),
    "conv1.weight": f32Entry([1, 1, 1, 2], [3, 4]),
  };
  const b = new Map(Object.entries(a).reverse());
  const meta = { "p2sgrad.version": "1", "p2sgrad.config": '{"backbone":"x"}' };
  const bytesA = encodeSafetensors(a, meta);
  const bytesB = encodeSafetensors(b, {
    "p2sgrad.config": '{"backbone":"x"}',
    "p2sgrad.version": "1",
  });
  assertEquals(bytesA, bytesB);
  const parsed = decodeSafetensors(bytesA, "mem");
  // I64 (8-byte alignment) first, then F32 tensors by name.
  assertEquals([...parsed.tensors.keys()], [
    "bn1.num_batches_tracked",
    "conv1.weight",
    "layer1.0.bn1.weight",
  ]);
  assertEquals(parsed.metadata, meta);
  // Header length is a multiple of 8 so every tensor starts aligned.
  const n = Number(new DataView(bytesA.buffer).getBigUint64(0, true));
  assertEquals(n % 8, 0);
  // Re-encoding what was read gives the same bytes.
  assertEquals(encodeSafetensors(parsed.tensors, parsed.metadata), bytesA);
});

Deno.test("safetensors: values and dtypes round-trip; F16/BF16/F64 widen to f32", () => {
  const parsed = decodeSafetensors(
    encodeSafetensors({
      w: f32Entry([2, 2], [1.5, -2.25, 3e-8, 65504]),
      n: i64Entry([], [123456789012n]),
      h: {
        dtype: "F16",
        shape: [4],
        data: new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c]),
      },
      bf: { dtype: "BF16", shape: [2], data: new Uint8Array([0x80, 0x3f, 0x40, 0xc0]) },
      d: { dtype: "F64", shape: [1], data: new Uint8Array(new Float64Array([0.1]).buffer) },
    }),
    "mem",
  );
  const get = (k: string) => parsed.tensors.get(k)!;
  assertEquals([...toFloat32(get("w"), "w", "mem")], [1.5, -2.25, Math.fround(3e-8), 65504]);
  assertEquals(toIntegers(get("n"), "n", "mem"), [123456789012]);
  assertEquals([...toFloat32(get("h"), "h", "mem")], [1, -2, 2 ** -24, Infinity]);
  assertEquals([...toFloat32(get("bf"), "bf", "mem")], [1, -3]);
  assertEquals([...toFloat32(get("d"), "d", "mem")], [Math.fround(0.1)]);
  const err = assertThrows(
    () => toFloat32(get("n"), "bn1.num_batches_tracked", "model.safetensors"),
    InputError,
  );
  assertEquals(
    err.message.includes("model.safetensors: tensor 'bn1.num_batches_tracked' has dtype I64"),
    true,
  );
});

Deno.test("safetensors: malformed files are rejected with the file and tensor named", () => {
  const good = encodeSafetensors({ "fc.weight": f32Entry([2, 3], [1, 2, 3, 4, 5, 6]) });
  const cases: [string, Uint8Array, string][] = [
    ["short", new Uint8Array(5), "only 5 bytes"],
    ["truncated", good.subarray(0, good.length - 4), "truncated"],
    ["trailing", new Uint8Array([...good, 0]), "trailing"],
    ["huge header", new Uint8Array([...le64(0xfffe), ...ascii("{}      ")]), "runs past the end"],
  ];
  const withHeader = (h: string, data: number[] = []) => {
    const text = ascii(h);
    return new Uint8Array([...le64(text.length), ...text, ...data]);
  };
  cases.push(["not json", withHeader("{oops"), "not UTF-8 JSON"]);
  cases.push([
    "bad dtype",
    withHeader(`{"x":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}`, [0, 0, 0, 0]),
    "'x' has unknown dtype",
  ]);
  cases.push([
    "bad size",
    withHeader(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, [0, 0, 0, 0]),
    "'x' spans 4 bytes",
  ]);
  cases.push([
    "gap",
    withHeader(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, [0, 0, 0, 0, 0, 0, 0, 0]),
    "'x' has data_offsets [4, 8]",
  ]);
  cases.push(["bad meta", withHeader(`{"__metadata__":{"a":1}}`), "'a' is not a string"]);
  for (const [name, bytes, expect] of cases) {
    const err = assertThrows(
      () => decodeSafetensors(bytes, "run/model.safetensors"),
      InputError,
      undefined,
      name,
    );
    if (!err.message.startsWith("run/model.safetensors: ") || !err.message.includes(expect)) {
      throw new Error(
        `${name}: message ${JSON.stringify(err.message)} should name the file and say '${expect}'`,
      );
    }
  }
  assertThrows(
    () => encodeSafetensors({ x: { dtype: "F32", shape: [3], data: new Uint8Array(8) } }),
    Error,
    "'x' has 8 bytes",
  );
});

Deno.test("safetensors: files are written atomically and read back identically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2sgrad-st-" });
  try {
    const path = `${dir}/m.safetensors`;
    const tensors = { "features.weight": f32Entry([3], [1, 1, 1]) };
    await writeSafetensors(path, tensors, { "p2sgrad.version": "1" });
    const back = await readSafetensors(path);
    assertEquals(encodeSafetensors(back.tensors, back.metadata), await Deno.readFile(path));
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["m.safetensors"]);
    await assertRejectsInput(
      () => readSafetensors(`${dir}/missing.safetensors`),
      "missing.safetensors: cannot read",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function assertRejectsInput(f: () => Promise<unknown>, includes: string) {
  try {
    await f();
  } catch (err) {
    if (err instanceof InputError && err.message.includes(includes)) return;
    throw err;
  }
  throw new Error(`expected an InputError mentioning '${includes}'`);
}
