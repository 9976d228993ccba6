// prepare | align | inspect end to end, in-process and as real processes: counts, exit codes
// (0 ok, 1 failure, 2 usage), error messages that name the record, truncated streams, and
// a closed downstream pipe ending quietly and promptly.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { encodePnm } from "../src/image/pnm.ts";
import { decodePng } from "../src/image/png.ts";
import { openRecordStream } from "../src/format/stream.ts";
import type { FaceRecord, ImageRecord } from "../src/format/records.ts";
import { applyAffine } from "../src/align/similarity.ts";
import { chunkedReadable, imagesStream, runStage } from "./stage_io.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A tiny dataset: 3 identities × (2, 3, 1) PPM faces of 40×48 with a bright square "face". */
async function makeDataset(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "p2sgrad_cli_" });
  const counts: [string, number][] = [["ann", 2], ["bob", 3], ["cid", 1]];
  const lm: string[] = [];
  for (const [name, n] of counts) {
    await Deno.mkdir(join(root, name));
    for (let k = 0; k < n; k++) {
      const px = new Uint8Array(40 * 48 * 3);
      for (let i = 0; i < px.length; i++) px[i] = (i * 7 + k * 31 + name.charCodeAt(0)) % 200;
      await Deno.writeFile(join(root, name, `${k}.ppm`), encodePnm(40, 48, px));
      lm.push(`${name}/${k}.ppm\t14 20 26 20 20 27 15 34 25 34`);
    }
  }
  await Deno.writeTextFile(join(root, "lm.txt"), lm.join("\n") + "\n");
  return root;
}

async function records<K extends "images" | "faces">(bytes: Uint8Array, kind: K) {
  const s = await openRecordStream(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), kind);
  const out = [];
  for await (const r of s.records()) out.push(r);
  return { meta: s.meta, rows: out };
}

Deno.test("prepare | align | inspect: counts, labels, landmarks and a 112×112 crop per image", async () => {
  const root = await makeDataset();
  try {
    const prep = await runStage(["prepare", root, "--landmarks", join(root, "lm.txt")]);
    assertEquals(prep.code, 0, prep.stderr);
    assertStringIncludes(prep.stderr, "found 6 images of 3 identities");
    assertStringIncludes(
      prep.stderr,
      "6 joined; 0 listed for absent images; 0 images without landmarks",
    );
    const images = await records(prep.stdout, "images");
    const rows = images.rows as ImageRecord[];
    assertEquals(rows.map((r) => [r.id, r.label]), [
      ["ann/0.ppm", 0],
      ["ann/1.ppm", 0],
      ["bob/0.ppm", 1],
      ["bob/1.ppm", 1],
      ["bob/2.ppm", 1],
      ["cid/0.ppm", 2],
    ]);
    assertEquals([...rows[0].landmarks!].slice(0, 2), [14, 20]);

    const aligned = await runStage(["align"], prep.stdout);
    assertEquals(aligned.code, 0, aligned.stderr);
    const faces = await records(aligned.stdout, "faces");
    assertEquals(faces.meta.size, 112);
    assertEquals(faces.rows.length, 6);
    assertEquals((faces.rows[0] as FaceRecord).pixels.length, 112 * 112 * 3);

    const shown = await runStage(["inspect", "--rows", "2"], aligned.stdout);
    assertEquals(shown.code, 0, shown.stderr);
    const lines = new TextDecoder().decode(shown.stdout).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertEquals(lines.length, 3);
    assertEquals([lines[0].kind, lines[0].rows, lines[0].metadata["p2sgrad.size"]], [
      "faces",
      6,
      "112",
    ]);
    assertEquals(lines[1].pixels.length, 112 * 112 * 3);
    assertEquals(lines[1].pixels.first.length, 8, "pixels are summarised, never dumped");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("prepare options through the CLI: split, noise, shard, max-per-id, identities files", async () => {
  const root = await makeDataset();
  try {
    await Deno.writeTextFile(join(root, "keep.txt"), "bob\ncid\n");
    const run = async (...args: string[]) => {
      const r = await runStage(["prepare", root, ...args]);
      assertEquals(r.code, 0, r.stderr);
      return { rows: (await records(r.stdout, "images")).rows as ImageRecord[], stderr: r.stderr };
    };
    assertEquals((await run("--identities", join(root, "keep.txt"))).rows.map((r) => r.identity), [
      "bob",
      "bob",
      "bob",
      "cid",
    ]);
    assertEquals((await run("--exclude-identities", join(root, "keep.txt"))).rows.length, 2);
    assertEquals((await run("--max-per-id", "1")).rows.length, 3);
    assertEquals((await run("--min-per-id", "2", "--max-ids", "1")).rows.map((r) => r.identity), [
      "ann",
      "ann",
    ]);
    const noisy = await run("--label-noise", "0.5", "--seed", "4");
    assertEquals(noisy.rows.filter((r) => r.label !== r.cleanLabel).length, 3);
    assertStringIncludes(noisy.stderr, "3 labels replaced");
    const train = (await run("--split", "train", "--val-fraction", "0.34")).rows;
    const val = (await run("--split", "val", "--val-fraction", "0.34")).rows;
    assertEquals(train.length + val.length, 6);
    assertEquals(new Set(val.map((r) => r.identity)).size, 1);
    assert(!train.some((r) => r.identity === val[0].identity));
    const shards = [];
    for (const k of [0, 1]) shards.push(...(await run("--shard", `${k}/2`)).rows.map((r) => r.id));
    assertEquals(shards.sort(), (await run()).rows.map((r) => r.id));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("prepare reads list files and RecordIO through the CLI", async () => {
  const root = await makeDataset();
  try {
    await Deno.writeTextFile(join(root, "list.txt"), "bob/0.ppm 5\nann/1.ppm 2\nann/0.ppm 2\n");
    const listed = await runStage(["prepare", join(root, "list.txt")]);
    assertEquals(listed.code, 0, listed.stderr);
    const rows = (await records(listed.stdout, "images")).rows as ImageRecord[];
    assertEquals(rows.map((r) => [r.id, r.identity, r.label]), [["ann/0.ppm", "2", 0], [
      "ann/1.ppm",
      "2",
      0,
    ], ["bob/0.ppm", "5", 1]]);

    const { packIR, writeRecordIO } = await import("../src/data/recordio.ts");
    const img = await Deno.readFile(join(root, "bob/1.ppm"));
    const { rec, idx } = writeRecordIO(
      [3, 3, 8].map((cls, k) => packIR({ label: cls, id: BigInt(k), id2: 0n }, img)),
    );
    await Deno.mkdir(join(root, "rec"));
    await Deno.writeFile(join(root, "rec/train.rec"), rec);
    await Deno.writeTextFile(join(root, "rec/train.idx"), idx);
    const fromRec = await runStage(["prepare", join(root, "rec")]);
    assertEquals(fromRec.code, 0, fromRec.stderr);
    const recRows = (await records(fromRec.stdout, "images")).rows as ImageRecord[];
    assertEquals(recRows.map((r) => [r.id, r.identity, r.label, r.path]), [
      ["train.rec:0", "3", 0, ""],
      ["train.rec:1", "3", 0, ""],
      ["train.rec:2", "8", 1, ""],
    ]);
    assertEquals(recRows[0].bytes, img);
    const faces = await runStage(["align", "--mode", "center", "--size", "32"], fromRec.stdout);
    assertEquals(faces.code, 0, faces.stderr);
    assertEquals((await records(faces.stdout, "faces")).rows.length, 3);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("usage errors exit 2 and show the usage; bad inputs exit 1 with a hint", async () => {
  for (
    const args of [
      ["prepare"],
      ["prepare", "x", "--no-such-flag"],
      ["prepare", "x", "--shard", "2/2"],
      ["prepare", "x", "--split", "test"],
      ["prepare", "x", "--label-noise", "1.5"],
      ["align", "--mode", "sideways"],
      ["align", "--crop", "50"],
      ["align", "--on-error", "ignore"],
      ["inspect", "--cols", "3"],
    ]
  ) {
    const r = await runStage(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, "Usage: p2sgrad", args.join(" "));
  }
  const help = await runStage(["prepare", "--help"]);
  assertEquals(help.code, 0);
  assertStringIncludes(help.stderr, "Examples:");
  const missing = await runStage(["prepare", "/no/such/dataset"]);
  assertEquals(missing.code, 1);
  assertStringIncludes(missing.stderr, "/no/such/dataset: no such file or folder");
  const empty = await runStage(["align"]);
  assertEquals(empty.code, 1);
  assertStringIncludes(empty.stderr, "empty input, expected an images stream");
});

Deno.test("prepare synthetic is handed to prepare_synthetic.ts (or says it is missing)", async () => {
  const exists = await Deno.stat(new URL("../src/cli/prepare_synthetic.ts", import.meta.url)).then(
    () => true,
    () => false,
  );
  if (exists) return; // the generator's own tests cover it once it lands
  const r = await runStage(["prepare", "--seed", "3", "synthetic", "--whatever", "1"]);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "synthetic-face source is not available");
});

Deno.test("align errors name the record and path; --on-error skip lists and counts them", async () => {
  const ok = encodePnm(4, 4, new Uint8Array(48).fill(9));
  const lm = Float32Array.of(1, 1, 3, 1, 2, 2, 1, 3, 3, 3);
  const rec = (id: string, extra: Partial<ImageRecord>): ImageRecord => ({
    id,
    identity: "x",
    label: 0,
    cleanLabel: 0,
    path: "",
    bytes: ok,
    landmarks: lm,
    ...extra,
  });
  const stream = await imagesStream([
    rec("good", {}),
    rec("gone", { path: "/no/such/image.jpg", bytes: null }),
    rec("junk", { bytes: new TextEncoder().encode("not an image at all") }),
    rec("bare", { landmarks: null }),
  ]);
  const failed = await runStage(["align"], stream);
  assertEquals(failed.code, 1);
  assertStringIncludes(
    failed.stderr,
    "record gone (/no/such/image.jpg): /no/such/image.jpg: no such file",
  );
  const skipped = await runStage(["align", "--on-error", "skip"], stream);
  assertEquals(skipped.code, 0, skipped.stderr);
  assertEquals((await records(skipped.stdout, "faces")).rows.map((r) => r.id), ["good"]);
  assertStringIncludes(skipped.stderr, "3 skipped");
  assertStringIncludes(skipped.stderr, "skipped junk: unrecognised image format");
  assertStringIncludes(skipped.stderr, "skipped bare: has no landmarks");
  const bare = await runStage(["align"], await imagesStream([rec("bare", { landmarks: null })]));
  assertEquals(bare.code, 1);
  assertMatch(bare.stderr, /record bare: has no landmarks.*\n.*hint: use --mode center/);
});

Deno.test("wrong stream kind and truncated streams exit 1 with a message naming the producer", async () => {
  const root = await makeDataset();
  try {
    const prep = await runStage(["prepare", root, "--landmarks", join(root, "lm.txt")]);
    const faces = (await runStage(["align"], prep.stdout)).stdout;
    const wrong = await runStage(["align"], faces);
    assertEquals(wrong.code, 1);
    assertStringIncludes(
      wrong.stderr,
      "got a faces stream (made by `p2sgrad align`), expected an images stream",
    );
    for (const cut of [faces.length - 8, Math.floor(faces.length / 2)]) {
      const r = await runStage(["inspect"], faces.subarray(0, cut));
      assertEquals(r.code, 1, `cut at ${cut}`);
      assertMatch(r.stderr, /ended without its end marker|corrupt or cut short/);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Many small inline images: enough output to overflow any pipe buffer many times. */
async function bigImagesStream(n: number): Promise<Uint8Array> {
  const img = encodePnm(8, 8, new Uint8Array(192).fill(120));
  const rows: ImageRecord[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      id: `i${String(i).padStart(5, "0")}`,
      identity: `p${i % 50}`,
      label: i % 50,
      cleanLabel: i % 50,
      path: "",
      bytes: img,
      landmarks: null,
    });
  }
  return await imagesStream(rows);
}

Deno.test("a closed stdout ends align quietly with 0, and it stops reading its input promptly", async () => {
  const input = await bigImagesStream(4000);
  const { stream, pulled } = chunkedReadable(input, 16384);
  let writes = 0;
  const closedPipe = new WritableStream<Uint8Array>({
    write() {
      if (++writes > 1) throw new Deno.errors.BrokenPipe("reader went away");
    },
  });
  const r = await runStage(["align", "--mode", "resize", "--size", "64"], stream, closedPipe);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "", "nothing to report on a closed pipe");
  assert(
    pulled() < input.length / 4,
    `read ${pulled()} of ${input.length} bytes after the pipe closed`,
  );
});

Deno.test("real processes: `align | head` exits 0 quietly; a truncated upstream makes align exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "p2sgrad_pipe_" });
  try {
    const file = join(dir, "images.arrow");
    const input = await bigImagesStream(3000);
    await Deno.writeFile(file, input);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-env",
        MAIN,
        "align",
        "--mode",
        "resize",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert(!first.done && first.value.length > 0);
    await reader.cancel(); // like `head` exiting after its first lines
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    assertEquals(status.code, 0, stderr);
    assertEquals(stderr, "");

    const cut = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-read", "--allow-env", MAIN, "align", "--mode", "resize"],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const w = cut.stdin.getWriter();
    await w.write(input.subarray(0, Math.floor(input.length * 0.6))); // the upstream stage died here
    await w.close();
    const cutStatus = await cut.status;
    const cutErr = new TextDecoder().decode(await new Response(cut.stderr).arrayBuffer());
    assertEquals(cutStatus.code, 1, cutErr);
    assertMatch(
      cutErr,
      /p2sgrad align: stdin: the images stream (ended without its end marker|is corrupt or cut short)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --grid writes a PNG contact sheet, one identity per row with --per-identity", async () => {
  const root = await makeDataset();
  try {
    const prep = await runStage(["prepare", root, "--landmarks", join(root, "lm.txt")]);
    const faces = (await runStage(["align", "--size", "48"], prep.stdout)).stdout;
    const png = join(root, "sheet.png");
    const r = await runStage([
      "inspect",
      "--grid",
      png,
      "--per-identity",
      "2",
      "--rows",
      "3",
      "--landmarks",
    ], faces);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(new TextDecoder().decode(r.stdout), "", "the sheet goes to the file, not stdout");
    const sheet = await decodePng(await Deno.readFile(png));
    // 2 columns and 3 rows of 48-px tiles, 2-px gaps and a 9-px caption strip.
    assertEquals([sheet.width, sheet.height], [2 * 50 + 2, 3 * (48 + 9 + 2) + 2]);
    assertStringIncludes(r.stderr, "5 faces of 3 identities");
    // The first tile shows the first face exactly; its right-eye template dot is green.
    const face = ((await records(faces, "faces")).rows[0] as FaceRecord).pixels;
    const at = (
      x: number,
      y: number,
    ) => [
      ...sheet.data.subarray(
        ((y + 2) * sheet.width + x + 2) * 3,
        ((y + 2) * sheet.width + x + 2) * 3 + 3,
      ),
    ];
    assertEquals(at(5, 5), [...face.subarray((5 * 48 + 5) * 3, (5 * 48 + 5) * 3 + 3)]);
    const [ex, ey] = applyAffine(Float64Array.of(48 / 112, 0, 0, 0, 48 / 112, 0), [
      73.5318,
      51.5014,
    ]);
    assertEquals(at(Math.round(ex), Math.round(ey)), [40, 220, 40]);
    // The images kind is decoded and fitted into the tiles.
    const imgSheet = await runStage([
      "inspect",
      "--grid",
      png,
      "--cols",
      "3",
      "--rows",
      "1",
      "--tile",
      "32",
    ], prep.stdout);
    assertEquals(imgSheet.code, 0, imgSheet.stderr);
    assertEquals((await decodePng(await Deno.readFile(png))).width, 3 * 34 + 2);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("inspect shows the stream's own schema and metadata, fields p2sgrad does not write included", async () => {
  const { tableFromIPC, tableToIPC, Table, Schema, Field, Utf8, vectorFromArray } = await import(
    "apache-arrow"
  );
  const root = await makeDataset();
  try {
    const prep = await runStage(["prepare", root]);
    assertEquals(prep.code, 0, prep.stderr);
    // A producer that adds a column and a metadata entry of its own.
    const table = tableFromIPC(prep.stdout);
    const note = vectorFromArray(table.toArray().map((_, i) => `note ${i}`), new Utf8());
    const fields = [...table.schema.fields, new Field("lab_note", new Utf8(), true)];
    const metadata = new Map([...table.schema.metadata, ["lab.comment", "hand-checked"]]);
    const columns = Object.fromEntries(
      table.schema.fields.map((f) => [f.name, table.getChild(f.name)!]),
    );
    const extended = new Table(new Schema(fields, metadata), { ...columns, lab_note: note });
    const shown = await runStage(["inspect", "--rows", "1"], tableToIPC(extended, "stream"));
    assertEquals(shown.code, 0, shown.stderr);
    const header = JSON.parse(new TextDecoder().decode(shown.stdout).split("\n")[0]);
    assertEquals(header.kind, "images");
    assertEquals(header.rows, 6);
    assertEquals(header.metadata["lab.comment"], "hand-checked");
    assertEquals(header.metadata["p2sgrad.kind"], "images");
    const names = header.schema.map((f: { name: string }) => f.name);
    assert(names.includes("lab_note"), `schema lists the extra field: ${names}`);
    assertEquals(names.length, table.schema.fields.length + 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
