import { assertEquals, assertRejects } from "@std/assert";
import { openRecordStream, RecordStreamWriter } from "./stream.ts";
import type { FaceRecord } from "./records.ts";

function memorySink() {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  const bytes = () => {
    const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of chunks) (out.set(c, at), at += c.length);
    return out;
  };
  return { sink, chunks, bytes };
}

const source = (b: Uint8Array) => ReadableStream.from([b]);

async function facesStream(n: number, batchRows: number) {
  const m = memorySink();
  const w = new RecordStreamWriter(m.sink, { kind: "faces", size: 2 }, batchRows);
  for (let i = 0; i < n; i++) {
    await w.write({
      id: `p/${i}`,
      identity: "p",
      label: i % 3,
      cleanLabel: i % 3,
      pixels: new Uint8Array(12).fill(i),
    });
  }
  await w.close();
  return m;
}

Deno.test("faces round-trip through batches, preserving order and pixels", async () => {
  const m = await facesStream(7, 3);
  const rs = await openRecordStream(source(m.bytes()), "faces", "mem");
  assertEquals(rs.meta.size, 2);
  const got: FaceRecord[] = [];
  for await (const r of rs.records()) got.push({ ...r, pixels: r.pixels.slice() });
  assertEquals(got.map((r) => r.id), [0, 1, 2, 3, 4, 5, 6].map((i) => `p/${i}`));
  assertEquals(got.map((r) => r.pixels[11]), [0, 1, 2, 3, 4, 5, 6]);
  assertEquals(got[4].label, 1);
});

Deno.test("writer sends each batch as it fills (no whole-dataset buffering)", async () => {
  const m = await facesStream(10, 4);
  // schema message, 3 batches, end marker
  assertEquals(m.chunks.length, 5);
});

Deno.test("a stream cut short is an error naming the producing stage", async () => {
  const bytes = (await facesStream(5, 2)).bytes();
  for (const cut of [8, 40]) {
    const rs = await openRecordStream(
      source(bytes.subarray(0, bytes.length - cut)),
      "faces",
      "mem",
    );
    await assertRejects(
      async () => {
        for await (const _ of rs.records()) { /* drain */ }
      },
      Error,
      "mem: the faces stream",
    );
  }
});

Deno.test("wrong kind, empty and non-Arrow input say what was expected", async () => {
  const bytes = (await facesStream(1, 2)).bytes();
  await assertRejects(
    () => openRecordStream(source(bytes), "embeddings", "x.arrow"),
    Error,
    "p2sgrad embed",
  );
  await assertRejects(
    () => openRecordStream(source(bytes), "images", "x.arrow"),
    Error,
    "got a faces stream",
  );
  await assertRejects(
    () => openRecordStream(source(new Uint8Array(0)), "faces", "stdin"),
    Error,
    "empty input",
  );
  const junk = new TextEncoder().encode("not an arrow stream at all, just text");
  await assertRejects(
    () => openRecordStream(source(junk), "faces", "stdin"),
    Error,
    "not an Arrow IPC",
  );
});

Deno.test("images keep null landmarks and inline bytes; embeddings keep dim and norm", async () => {
  const m = memorySink();
  const w = new RecordStreamWriter(m.sink, { kind: "images" });
  const lm = Float32Array.from({ length: 10 }, (_, i) => i + 0.5);
  await w.write({
    id: "a",
    identity: "A",
    label: 0,
    cleanLabel: 0,
    path: "a.jpg",
    bytes: null,
    landmarks: lm,
  });
  await w.write({
    id: "b",
    identity: "B",
    label: 1,
    cleanLabel: 0,
    path: "",
    bytes: new Uint8Array([7, 8]),
    landmarks: null,
  });
  await w.close();
  const rows = await Array.fromAsync(
    (await openRecordStream(source(m.bytes()), "images")).records(),
  );
  assertEquals(Array.from(rows[0].landmarks!), Array.from(lm));
  assertEquals(rows[0].bytes, null);
  assertEquals(rows[1].landmarks, null);
  assertEquals(Array.from(rows[1].bytes!), [7, 8]);
  assertEquals(rows[1].cleanLabel, 0);

  const e = memorySink();
  const we = new RecordStreamWriter(e.sink, { kind: "embeddings", dim: 3, model: "m.safetensors" });
  await we.write({
    id: "a",
    identity: "A",
    label: 2,
    embedding: new Float32Array([0.6, 0.8, 0]),
    norm: 5,
  });
  await we.close();
  const es = await openRecordStream(source(e.bytes()), "embeddings");
  assertEquals(es.meta.model, "m.safetensors");
  const [r] = await Array.fromAsync(es.records());
  assertEquals([Array.from(r.embedding), r.norm, r.label], [
    [Math.fround(0.6), Math.fround(0.8), 0],
    5,
    2,
  ]);
});
