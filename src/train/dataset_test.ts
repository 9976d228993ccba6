import { assertEquals, assertNotEquals } from "@std/assert";
import { openRecordStream, RecordStreamWriter } from "../format/stream.ts";
import { batchIndices, cacheFaces, EpochOrder, fillBatch, stepsPerEpoch } from "./dataset.ts";
import { INSIGHTFACE_NORMALISATION as norm } from "../model/model_file.ts";

async function facesBytes(n: number, size: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const w = new RecordStreamWriter(
    new WritableStream({ write: (c) => void chunks.push(c.slice()) }),
    { kind: "faces", size },
    4,
  );
  for (let i = 0; i < n; i++) {
    const pixels = new Uint8Array(size * size * 3).map((_, j) => (i * 7 + j) & 255);
    await w.write({
      id: `p${i % 3}/${i}`,
      identity: `p${i % 3}`,
      label: i % 3,
      cleanLabel: i % 3,
      pixels,
    });
  }
  await w.close();
  return new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

Deno.test("cache keeps rows and labels in stream order; memory and file caches agree", async () => {
  const bytes = await facesBytes(10, 3);
  const dir = await Deno.makeTempDir();
  const mem = await cacheFaces(await openRecordStream(ReadableStream.from([bytes]), "faces"), dir);
  const disk = await cacheFaces(
    await openRecordStream(ReadableStream.from([bytes]), "faces"),
    dir,
    40,
  );
  assertEquals([mem.rows, mem.classes, mem.checksum], [10, 3, disk.checksum]);
  const a = new Uint8Array(27), b = new Uint8Array(27);
  for (const i of [0, 9, 4]) {
    mem.read(i, a);
    disk.read(i, b);
    assertEquals(a, b);
    assertEquals(a[0], (i * 7) & 255);
  }
  disk.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("batches cover each epoch once, depend only on (seed, step), and differ across epochs", () => {
  const rows = 10, batch = 3, per = stepsPerEpoch(rows, batch);
  assertEquals(per, 3);
  const epoch0 = [0, 1, 2].flatMap((s) => Array.from(batchIndices(7, rows, batch, s)));
  assertEquals(new Set(epoch0).size, 9);
  assertEquals(batchIndices(7, rows, batch, 4), batchIndices(7, rows, batch, 4));
  assertNotEquals(
    Array.from(batchIndices(7, rows, batch, 0)),
    Array.from(batchIndices(7, rows, batch, 3)),
  );
});

Deno.test("fillBatch normalises to [-1, 1] NCHW and flips by the seeded coin", async () => {
  const set = await cacheFaces(
    await openRecordStream(ReadableStream.from([await facesBytes(2, 2)]), "faces"),
    "/tmp",
  );
  const out = new Float32Array(2 * 3 * 4);
  const idx = Uint32Array.of(1, 0);
  const labels = fillBatch(set, idx, out, { flip: false, seed: 1, step: 0, norm });
  assertEquals(Array.from(labels), [1, 0]);
  // image 1, channel 0, pixel (0,0) = byte 7 → 7/127.5 − 1
  assertEquals(Math.abs(out[0] - (7 / 255 - 0.5) / 0.5) < 1e-6, true);
  let flipped = 0;
  for (let step = 0; step < 40; step++) {
    fillBatch(set, Uint32Array.of(0), out, { flip: true, seed: 1, step, norm });
    if (out[0] > -0.99) flipped++;
  }
  assertEquals(flipped > 5 && flipped < 35, true);
});

Deno.test("EpochOrder draws exactly batchIndices' rows, across epoch boundaries and back", () => {
  const order = new EpochOrder(5, 23, 4);
  for (const step of [0, 1, 4, 5, 6, 11, 3, 17]) {
    assertEquals(Array.from(order.indices(step)), Array.from(batchIndices(5, 23, 4, step)));
  }
});
