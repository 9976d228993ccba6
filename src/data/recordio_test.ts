// RecordIO: a record laid out by hand byte by byte, writer/reader round trips (including
// payloads that contain the magic word, so records split into parts), multi-float labels,
// insightface's identity-range header, and broken files.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { join } from "@std/path";
import { InputError } from "../cli/errors.ts";
import { encodePnm } from "../image/pnm.ts";
import {
  encodeRecord,
  listRecordIO,
  packIR,
  parseIdx,
  RECORDIO_MAGIC,
  RecordIOReader,
  unpackIR,
  writeRecordIO,
} from "./recordio.ts";

async function writeFiles(rec: Uint8Array, idx: string): Promise<{ dir: string; recPath: string }> {
  const dir = await Deno.makeTempDir({ prefix: "p2sgrad_recordio_" });
  const recPath = join(dir, "train.rec");
  await Deno.writeFile(recPath, rec);
  await Deno.writeTextFile(join(dir, "train.idx"), idx);
  return { dir, recPath };
}

Deno.test("reader parses a record laid out by hand (magic, length, IRHeader, image, padding)", async () => {
  const image = new Uint8Array([1, 2, 3, 4, 5]);
  const payloadLength = 24 + image.length; // 29 → padded to 32
  const rec = new Uint8Array(8 + 32);
  const v = new DataView(rec.buffer);
  v.setUint32(0, 0xced7230a, true);
  v.setUint32(4, payloadLength, true); // cflag 0
  v.setUint32(8, 0, true); // flag: one label
  v.setFloat32(12, 42, true);
  v.setBigUint64(16, 7n, true);
  v.setBigUint64(24, 0n, true);
  rec.set(image, 32);
  const { dir, recPath } = await writeFiles(rec, "5\t0\n");
  const reader = await RecordIOReader.open(recPath);
  try {
    const { header, image: got } = unpackIR(await reader.read(5));
    assertEquals([header.flag, header.label, header.id, header.id2], [0, 42, 7n, 0n]);
    assertEquals(got, image);
    assertEquals(
      encodeRecord(packIR({ label: 42, id: 7n, id2: 0n }, image)),
      rec,
      "writer lays it out the same way",
    );
  } finally {
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("payloads holding the magic word are split into parts and joined back", async () => {
  const magic = new Uint8Array(4);
  new DataView(magic.buffer).setUint32(0, RECORDIO_MAGIC, true);
  const payloads = [
    new Uint8Array([...magic, 9, 9, 9, 9, ...magic, 1, 2, 3]), // magic first, in the middle
    new Uint8Array([7, 7, 7, 7, ...magic]), // magic last
    new Uint8Array([0, ...magic, 5]), // unaligned magic: not split
    new Uint8Array(0),
    new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
  ];
  const framed = encodeRecord(payloads[0]);
  const flags: number[] = [];
  for (let at = 0; at < framed.length;) {
    const lrec = new DataView(framed.buffer).getUint32(at + 4, true);
    flags.push(lrec >>> 29);
    at += 8 + (((lrec & 0x1fffffff) + 3) & ~3);
  }
  assertEquals(flags, [1, 2, 3]);
  const { rec, idx } = writeRecordIO(payloads, [10, 11, 12, 13, 14]);
  const { dir, recPath } = await writeFiles(rec, idx);
  const reader = await RecordIOReader.open(recPath);
  try {
    assertEquals(reader.keys, [10, 11, 12, 13, 14]);
    for (const [i, p] of payloads.entries()) {
      assertEquals(await reader.read(10 + i), p, `record ${10 + i}`);
    }
  } finally {
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("multi-float labels: flag counts them and they precede the image", () => {
  const image = new Uint8Array([9, 8, 7]);
  const packed = packIR({ label: Float32Array.of(3, 0.5, -1), id: 1n, id2: 2n }, image);
  assertEquals(new DataView(packed.buffer).getUint32(0, true), 3);
  assertEquals(packed.length, 24 + 12 + 3);
  const { header, image: got } = unpackIR(packed);
  assertEquals([header.flag, [...(header.label as Float32Array)], got], [3, [3, 0.5, -1], image]);
  assertThrows(() => unpackIR(packed.subarray(0, 30)), InputError, "header says 3 labels");
  assertThrows(() => unpackIR(packed.subarray(0, 10)), InputError, "shorter than an IRHeader");
});

/** An insightface-style set: header record 0, images, identity records [first image, end). */
function insightfaceSet(perIdentity: number[]): Uint8Array[] {
  const images: Uint8Array[] = [];
  const ranges: [number, number][] = [];
  perIdentity.forEach((n, cls) => {
    const start = 1 + images.length;
    for (let k = 0; k < n; k++) {
      const ppm = encodePnm(2, 2, new Uint8Array(12).fill(cls * 10 + k));
      // Real insightface image records carry [class, 0] style multi-float labels in some sets.
      const label = k % 2 ? cls : Float32Array.of(cls, 0);
      images.push(packIR({ label, id: BigInt(start + k), id2: 0n }, ppm));
    }
    ranges.push([start, start + n]);
  });
  const idStart = 1 + images.length, idEnd = idStart + ranges.length;
  const header = packIR(
    { label: Float32Array.of(idStart, idEnd), id: 0n, id2: 0n },
    new Uint8Array(0),
  );
  const ids = ranges.map(([a, b]) =>
    packIR({ label: Float32Array.of(a, b), id: 0n, id2: 0n }, new Uint8Array(0))
  );
  return [header, ...images, ...ids];
}

Deno.test("listRecordIO uses the insightface header: images only, identity = class", async () => {
  const { rec, idx } = writeRecordIO(insightfaceSet([3, 1, 2]));
  const { dir, recPath } = await writeFiles(rec, idx);
  const { items, skips, reader, header } = await listRecordIO(recPath);
  try {
    assert(header.includes("images 1…6, identity records 7…9"), header);
    assertEquals(items.map((i) => i.id), [1, 2, 3, 4, 5, 6].map((k) => `train.rec:${k}`));
    assertEquals(items.map((i) => i.identity), ["0", "0", "0", "1", "2", "2"]);
    assertEquals(skips.total, 0);
    const bytes = await items[4].readBytes!();
    assertEquals(new TextDecoder().decode(bytes.subarray(0, 2)), "P6");
    assertEquals(bytes[bytes.length - 1], 20);
  } finally {
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listRecordIO without a header treats every record as an image; a wrong label is skipped", async () => {
  const plain = [0, 1, 1].map((cls, k) =>
    packIR({ label: cls, id: BigInt(k), id2: 0n }, new Uint8Array([k]))
  );
  const a = writeRecordIO(plain);
  const first = await writeFiles(a.rec, a.idx);
  const listed = await listRecordIO(first.recPath);
  listed.reader.close();
  assertEquals(listed.items.map((i) => i.identity), ["0", "1", "1"]);
  await Deno.remove(first.dir, { recursive: true });

  const set = insightfaceSet([2, 2]);
  set[2] = packIR({ label: 1, id: 2n, id2: 0n }, new Uint8Array([1])); // class 0's range, label 1
  const b = writeRecordIO(set);
  const second = await writeFiles(b.rec, b.idx);
  const bad = await listRecordIO(second.recPath);
  bad.reader.close();
  assertEquals(bad.items.length, 3);
  assertEquals([...bad.skips.byReason.keys()], ["label disagrees with the identity records"]);
  await Deno.remove(second.dir, { recursive: true });
});

Deno.test("broken RecordIO files: bad idx line, wrong offset, truncated file, missing idx", async () => {
  assertThrows(() => parseIdx("0\t0\n1 x\n", "t.idx"), InputError, "t.idx:2");
  const { rec } = writeRecordIO([packIR({ label: 0, id: 0n, id2: 0n }, new Uint8Array(40))]);
  const { dir, recPath } = await writeFiles(rec, "0\t4\n1\t0\n");
  const reader = await RecordIOReader.open(recPath);
  await assertRejects(() => reader.read(0), InputError, "no RecordIO magic at byte 4");
  reader.close();
  await Deno.writeFile(recPath, rec.subarray(0, 40));
  const cut = await RecordIOReader.open(recPath);
  await assertRejects(() => cut.read(1), InputError, "truncated");
  await assertRejects(() => cut.read(99), InputError, "not in the index");
  cut.close();
  await Deno.remove(join(dir, "train.idx"));
  await assertRejects(
    () => RecordIOReader.open(recPath),
    InputError,
    "cannot read the RecordIO index",
  );
  await Deno.remove(dir, { recursive: true });
});
