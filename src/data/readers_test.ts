// Folder, list-file and landmark-file readers on small trees made by the test, and their
// error messages (file and line named).
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { join } from "@std/path";
import { InputError } from "../cli/errors.ts";
import { encodePnm } from "../image/pnm.ts";
import { listFolder } from "./folder.ts";
import { joinLandmarks, parseLandmarks } from "./landmarks.ts";
import { listFromFile, parseList } from "./list.ts";

const PPM = encodePnm(2, 2, new Uint8Array(12));

async function tree(files: Record<string, Uint8Array | string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "p2sgrad_readers_" });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  return root;
}

Deno.test("folder: identity folders, all image extensions, sniffed extension-less files, skips", async () => {
  const root = await tree({
    "Bob/Bob_0001.jpg": new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
    "Bob/Bob_0002.PNG": PPM, // the extension decides listing; align sniffs the bytes
    "Alice/a.pgm": PPM,
    "Alice/sub/b.ppm": PPM,
    "Alice/noext": PPM,
    "Alice/notes.txt": "hello",
    "Alice/.hidden.jpg": PPM,
    "README.txt": "top-level text is ignored quietly",
    "loose.ppm": PPM,
  });
  try {
    const { items, skips } = await listFolder(root);
    assertEquals(items.map((i) => [i.id, i.identity]), [
      ["Alice/a.pgm", "Alice"],
      ["Alice/noext", "Alice"],
      ["Alice/sub/b.ppm", "Alice"],
      ["Bob/Bob_0001.jpg", "Bob"],
      ["Bob/Bob_0002.PNG", "Bob"],
    ]);
    assertEquals(items[0].path, join(root, "Alice/a.pgm"));
    assertEquals(skips.byReason.get("not an image file")?.examples, ["Alice/notes.txt"]);
    assertEquals(skips.byReason.get("image at top level, not in an identity folder")?.count, 1);
    const flat = await listFolder(root, { identityPattern: /^([a-z]+)\./ });
    assertEquals(flat.items.map((i) => [i.id, i.identity]), [["loose.ppm", "loose"]]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("list: paths relative to the list, optional landmarks, missing files counted", async () => {
  const root = await tree({
    "7/x.ppm": PPM,
    "9/y.ppm": PPM,
    "train_list.txt": "# comment\n7/x.ppm 0\n\n9/y.ppm\t1  1 2 3 4 5 6 7 8 9 10\n9/gone.ppm 1\n",
  });
  try {
    const { items, skips } = await listFromFile(join(root, "train_list.txt"));
    assertEquals(items.map((i) => [i.id, i.identity, i.path]), [
      ["7/x.ppm", "0", join(root, "7/x.ppm")],
      ["9/y.ppm", "1", join(root, "9/y.ppm")],
    ]);
    assertEquals([...items[1].landmarks!], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assertEquals(skips.byReason.get("listed but missing")?.examples, ["9/gone.ppm (line 5)"]);
    await Deno.writeTextFile(join(root, "dup.txt"), "7/x.ppm 0\n7/x.ppm 0\n");
    await assertRejects(() => listFromFile(join(root, "dup.txt")), InputError, "dup.txt:2");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("list: malformed lines name the file and line", () => {
  assertThrows(
    () => parseList("a.jpg 0\nb.jpg\n", "l.txt"),
    InputError,
    "l.txt:2: expected 'path label'",
  );
  assertThrows(() => parseList("a.jpg zero\n", "l.txt"), InputError, 'l.txt:1: label "zero"');
  assertThrows(() => parseList("a.jpg 1.5\n", "l.txt"), InputError, "not a non-negative integer");
  assertThrows(
    () => parseList("a 0 1 2 3 4 5 6 7 8 9 x\n", "l.txt"),
    InputError,
    'l.txt:1: landmark 10 ("x")',
  );
});

Deno.test("landmarks: tab or space separated, scaled, joined by path both ways", () => {
  const text =
    "A/a.jpg\t10\t20\t30\t40\t50\t60\t70\t80\t90\t100\n./B/b.jpg 1 1 1 1 1 1 1 1 1 1\nGone/g.jpg 0 0 0 0 0 0 0 0 0 0\n";
  const map = parseLandmarks(text, "lm.txt", 0.5);
  assertEquals([...map.get("A/a.jpg")!], [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  const items = ["A/a.jpg", "B/b.jpg", "C/c.jpg"].map((id) => ({
    id,
    identity: id[0],
    path: id,
    landmarks: null,
  }));
  const r = joinLandmarks(items, map);
  assertEquals(r.joined, 2);
  assertEquals(r.withoutLandmarks, ["C/c.jpg"]);
  assertEquals(r.absentImages, ["Gone/g.jpg"]);
  assert(items[1].landmarks !== null && items[2].landmarks === null);
  assertThrows(
    () => parseLandmarks("A 1 2 3\n", "lm.txt"),
    InputError,
    "lm.txt:1: expected 'path x1 y1",
  );
  assertThrows(
    () => parseLandmarks("\nA 1 2 3 4 5 6 7 8 9 nan?\n", "lm.txt"),
    InputError,
    "lm.txt:2: landmark 10",
  );
  assertThrows(
    () => parseLandmarks("A 1 2 3 4 5 6 7 8 9 0\nA 1 2 3 4 5 6 7 8 9 0\n", "lm.txt"),
    InputError,
    "lm.txt:2",
  );
});
