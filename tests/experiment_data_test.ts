// Label noise applied by the experiment to a faces stream: exactly round(p·N) labels are
// replaced by a different class, clean_label, ids and pixels stay, the same seed gives the
// same bytes, and unlabelled faces are refused. Also the synthetic data commands.
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import {
  balancedOrder,
  findDataRoot,
  lfwPipelines,
  syntheticPipelines,
  writeFoldSubset,
  writeNoisyFaces,
} from "../src/experiment/data.ts";
import { parsePairs } from "../src/data/pairs.ts";
import { toyFaces } from "../src/train/toy_faces.ts";
import { openRecordStream } from "../src/format/stream.ts";
import type { FaceRecord } from "../src/format/records.ts";
import { InputError } from "../src/cli/errors.ts";
import { toyFacesStream } from "../src/train/toy_faces.ts";

async function readAll(path: string): Promise<{ size: number; rows: FaceRecord[] }> {
  const f = await Deno.open(path);
  const s = await openRecordStream(f.readable, "faces", path);
  const rows: FaceRecord[] = [];
  for await (const r of s.records()) rows.push(r);
  return { size: s.meta.size!, rows };
}

Deno.test("writeNoisyFaces: round(p·N) wrong labels, truth kept in clean_label, seeded", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(
    `${dir}/in.arrow`,
    await toyFacesStream({ identities: 5, perIdentity: 9, size: 8 }),
  );
  const flipped = await writeNoisyFaces(`${dir}/in.arrow`, `${dir}/a.arrow`, 0.2, 7);
  assertEquals(flipped, 9, "round(0.2 × 45)");
  const clean = await readAll(`${dir}/in.arrow`), noisy = await readAll(`${dir}/a.arrow`);
  assertEquals(noisy.size, 8);
  assertEquals(noisy.rows.length, 45);
  let wrong = 0;
  noisy.rows.forEach((r, i) => {
    const c = clean.rows[i];
    assertEquals([r.id, r.identity, r.cleanLabel], [c.id, c.identity, c.label]);
    assertEquals(r.pixels, c.pixels);
    assert(r.label >= 0 && r.label < 5, `label ${r.label} out of range`);
    if (r.label !== r.cleanLabel) wrong++;
  });
  assertEquals(wrong, 9, "every replaced label is a different class");
  // Same seed: same bytes; another seed: other rows.
  await writeNoisyFaces(`${dir}/in.arrow`, `${dir}/b.arrow`, 0.2, 7);
  assertEquals(await Deno.readFile(`${dir}/b.arrow`), await Deno.readFile(`${dir}/a.arrow`));
  await writeNoisyFaces(`${dir}/in.arrow`, `${dir}/c.arrow`, 0.2, 8);
  assertNotEquals(await Deno.readFile(`${dir}/c.arrow`), await Deno.readFile(`${dir}/a.arrow`));
  assertEquals([...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".partial")), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeNoisyFaces: unlabelled faces are refused, naming the row", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(
    `${dir}/in.arrow`,
    await toyFacesStream({
      identities: 2,
      perIdentity: 2,
      size: 8,
      labelOf: (k) => (k === 1 ? -1 : k),
    }),
  );
  const e = await assertRejects(
    () => writeNoisyFaces(`${dir}/in.arrow`, `${dir}/out.arrow`, 0.5, 1),
    InputError,
  );
  assert(e.message.includes("row 2") && e.message.includes("no label"), e.message);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("synthetic data: train and pairs parts come from the same generator settings", () => {
  const p = syntheticPipelines(
    { source: "synthetic", identities: 80, per_identity: 4, render_size: 48, size: 32, seed: 3 },
    "out/data",
  );
  const gen = ["--identities", "80", "--per-identity", "4", "--size", "48", "--seed", "3"];
  assertEquals(p.train.stages, [["prepare", "synthetic", "--split", "train", ...gen], [
    "align",
    "--size",
    "32",
  ]]);
  assertEquals(p.val.stages[0], [
    "prepare",
    "synthetic",
    "--split",
    "pairs",
    ...gen,
    "--pairs-out",
    "out/data/pairs.txt",
  ]);
  assertEquals(p.pairs, "out/data/pairs.txt");
  assertEquals([p.train.out, p.val.out], [
    "out/data/train.faces.arrow",
    "out/data/pairs.faces.arrow",
  ]);
});

Deno.test("writeFoldSubset: the first K folds' pairs and exactly the faces they name", async () => {
  const dir = await Deno.makeTempDir();
  const opts = { identities: 4, perIdentity: 4, size: 8 };
  await Deno.writeFile(`${dir}/faces.arrow`, await toyFacesStream(opts));
  const ids = toyFaces(opts).map((r) => r.id);
  // Three folds of plain 'id1 id2 same fold' lines; fold 2 names faces no other fold does.
  const lines = [
    `${ids[0]} ${ids[1]} 1 0`,
    `${ids[0]} ${ids[4]} 0 0`,
    `${ids[5]} ${ids[6]} 1 1`,
    `${ids[5]} ${ids[8]} 0 1`,
    `${ids[12]} ${ids[13]} 1 2`,
    `${ids[9]} ${ids[14]} 0 2`,
  ];
  await Deno.writeTextFile(`${dir}/pairs.txt`, lines.join("\n") + "\n");
  const r = await writeFoldSubset(
    `${dir}/faces.arrow`,
    `${dir}/pairs.txt`,
    2,
    `${dir}/v.arrow`,
    `${dir}/v.txt`,
  );
  assertEquals(r, { pairs: 4, faces: 6 });
  const kept = parsePairs(await Deno.readTextFile(`${dir}/v.txt`), "v.txt");
  assertEquals(kept.folds, 2);
  assertEquals(kept.pairs.map((p) => [p.a, p.b, p.same, p.fold]), [
    [ids[0], ids[1], true, 0],
    [ids[0], ids[4], false, 0],
    [ids[5], ids[6], true, 1],
    [ids[5], ids[8], false, 1],
  ]);
  // LFW's layout (all same, then all different, per fold) comes out alternating.
  const mk = (same: boolean, fold: number, k: number) => ({ a: `a${k}`, b: `b${k}`, same, fold });
  const lfwOrder = [
    mk(true, 0, 1),
    mk(true, 0, 2),
    mk(false, 0, 3),
    mk(false, 0, 4),
    mk(true, 1, 5),
    mk(false, 1, 6),
  ];
  assertEquals(balancedOrder(lfwOrder).map((p) => p.a), ["a1", "a3", "a2", "a4", "a5", "a6"]);
  const sub = await readAll(`${dir}/v.arrow`), all = await readAll(`${dir}/faces.arrow`);
  assertEquals(sub.rows.map((x) => x.id), [0, 1, 4, 5, 6, 8].map((i) => ids[i]));
  for (const x of sub.rows) assertEquals(x.pixels, all.rows[ids.indexOf(x.id)].pixels);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("real data: CelebA resized for training, LFW aligned by landmarks; a clear error without it", async () => {
  const p = lfwPipelines({ source: "lfw", root: "/d", val_folds: 2 }, "o/data");
  assertEquals(p.train.stages, [
    ["prepare", "/d/celeba_subset_112x112/train_list.txt"],
    ["align", "--mode", "resize", "--size", "64"],
  ]);
  assertEquals(p.val.stages[0], [
    "prepare",
    "/d/lfw",
    "--landmarks",
    "/d/lfw/lfw_landmark_150px.txt",
  ]);
  assertEquals(p.pairs, "/d/lfw/pairs.txt");
  const empty = await Deno.makeTempDir();
  const e = await assertRejects(() => findDataRoot(empty, "experiment heads --lfw"), InputError);
  assert(
    e.message.startsWith("experiment heads --lfw needs the real data") && e.message.includes(empty),
  );
  await Deno.remove(empty);
});
