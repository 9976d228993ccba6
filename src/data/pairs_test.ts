import { assertEquals, assertThrows } from "@std/assert";
import { InputError } from "../cli/errors.ts";
import { dataset, skipReason } from "../../tests/helpers/data.ts";
import { formatLfwPairs, type LfwFold, lfwId, parsePairs } from "./pairs.ts";

const small = "2\t2\nAnn\t1\t3\nBob\t2\t4\nAnn\t1\tBob\t2\nCid\t1\tDee\t1\n" +
  "Eve\t1\t2\nAnn\t2\t3\nBob\t1\tEve\t2\nDee\t1\tCid\t2\n";

Deno.test("parsePairs reads LFW's layout: folds, same pairs first, then different pairs", () => {
  const list = parsePairs(small, "small.txt");
  assertEquals(list.folds, 2);
  assertEquals(list.pairs.length, 8);
  assertEquals(list.pairs[0], {
    a: "Ann/Ann_0001.jpg",
    b: "Ann/Ann_0003.jpg",
    same: true,
    fold: 0,
  });
  assertEquals(list.pairs[2], {
    a: "Ann/Ann_0001.jpg",
    b: "Bob/Bob_0002.jpg",
    same: false,
    fold: 0,
  });
  assertEquals(list.pairs[4].fold, 1);
  assertEquals(list.pairs.map((p) => p.same), [true, true, false, false, true, true, false, false]);
});

Deno.test("parsePairs: ids follow a configurable extension, and CRLF and blank lines are fine", () => {
  const list = parsePairs(small.replaceAll("\n", "\r\n") + "\r\n\r\n", "x", { idOf: lfwId("ppm") });
  assertEquals(list.pairs[7].b, "Cid/Cid_0002.ppm");
  assertEquals(lfwId("")("A_B", 12), "A_B/A_B_0012");
});

Deno.test("parsePairs: a single-count header is one fold (pairsDevTrain.txt)", () => {
  const list = parsePairs("2\nA 1 2\nB 1 2\nA 1 B 1\nB 2 A 2\n", "dev.txt");
  assertEquals(list.folds, 1);
  assertEquals(list.pairs.map((p) => [p.same, p.fold]), [[true, 0], [true, 0], [false, 0], [
    false,
    0,
  ]]);
});

Deno.test("parsePairs: malformed LFW files are errors naming file and line", () => {
  const cases: [string, RegExp][] = [
    ["1\t1\nA 1\nA 1 B 1\n", /bad\.txt:2: expected a same-identity line/],
    ["1\t1\nA 1 2\nA 1 B\n", /bad\.txt:3: expected a different-identity line/],
    ["1\t1\nA 1 2\nA 1 B 1\nC 1 2\n", /bad\.txt:4: more pairs than/],
    ["1\t2\nA 1 2\nB 1 2\nA 1 B 1\n", /bad\.txt: 3 pairs, the header promises/],
    ["1\t1\nA 0 2\nA 1 B 1\n", /bad\.txt:2:/],
    ["0\t3\n", /bad\.txt:1: header/],
  ];
  for (const [text, re] of cases) {
    const err = assertThrows(() => parsePairs(text, "bad.txt"), InputError);
    if (!re.test(err.message)) {
      throw new Error(`message ${JSON.stringify(err.message)} does not match ${re}`);
    }
  }
});

Deno.test("parsePairs reads plain `id1 id2 0|1` lists, with an optional fold column", () => {
  const plain = parsePairs("a/1.jpg b/2.jpg 1\n\na/1.jpg c/1.jpg 0\n", "plain.txt");
  assertEquals(plain, {
    folds: 1,
    pairs: [
      { a: "a/1.jpg", b: "b/2.jpg", same: true, fold: 0 },
      { a: "a/1.jpg", b: "c/1.jpg", same: false, fold: 0 },
    ],
  });
  const tabbed = parsePairs("my face.jpg\tother.jpg\t0\t2\nx\ty\t1\t0\n", "t.txt");
  assertEquals(tabbed.folds, 3);
  assertEquals(tabbed.pairs[0].a, "my face.jpg");
  assertThrows(
    () => parsePairs("a b 2\n", "p.txt"),
    InputError,
    "p.txt:1: expected `id1 id2 same [fold]`",
  );
  assertThrows(() => parsePairs("a b 1 0\na b 0\n", "p.txt"), InputError, "p.txt:2: some lines");
  assertThrows(() => parsePairs("\n  \n", "e.txt"), InputError, "e.txt: no pairs");
});

Deno.test("formatLfwPairs writes what parsePairs reads back", () => {
  const folds: LfwFold[] = [
    {
      same: [{ name: "syn_00001", n1: 1, n2: 7 }],
      different: [{ name1: "syn_00001", n1: 2, name2: "syn_00003", n2: 1 }],
    },
    {
      same: [{ name: "syn_00002", n1: 3, n2: 4 }],
      different: [{ name1: "syn_00004", n1: 1, name2: "syn_00002", n2: 9 }],
    },
  ];
  const text = formatLfwPairs(folds);
  assertEquals(text.split("\n")[0], "2\t1");
  assertEquals(text.split("\n")[2], "syn_00001\t2\tsyn_00003\t1");
  const back = parsePairs(text, "gen.txt", { idOf: lfwId("ppm") });
  assertEquals(back.folds, 2);
  assertEquals(back.pairs[3], {
    a: "syn_00004/syn_00004_0001.ppm",
    b: "syn_00002/syn_00002_0009.ppm",
    same: false,
    fold: 1,
  });
  assertThrows(
    () => formatLfwPairs([{ same: folds[0].same, different: [] }]),
    Error,
    "needs 1 of each",
  );
  assertThrows(() =>
    formatLfwPairs([{ same: [{ name: "a b", n1: 1, n2: 2 }], different: folds[0].different }])
  );
  assertThrows(() =>
    formatLfwPairs([{ same: [{ name: "a", n1: 0, n2: 2 }], different: folds[0].different }])
  );
});

const lfw = dataset("lfw");
Deno.test({
  name: "parsePairs reads LFW's own pairs.txt: 6,000 pairs, 10 folds, 3,000 same",
  ignore: lfw === null,
  fn: async () => {
    if (lfw === null) return console.log(skipReason("lfw"));
    const list = parsePairs(await Deno.readTextFile(`${lfw}/pairs.txt`), "pairs.txt");
    assertEquals(list.folds, 10);
    assertEquals(list.pairs.length, 6000);
    assertEquals(list.pairs.filter((p) => p.same).length, 3000);
    for (let f = 0; f < 10; f++) assertEquals(list.pairs.filter((p) => p.fold === f).length, 600);
    assertEquals(list.pairs[0], {
      a: "Abel_Pacheco/Abel_Pacheco_0001.jpg",
      b: "Abel_Pacheco/Abel_Pacheco_0004.jpg",
      same: true,
      fold: 0,
    });
    // Every id names a file that exists in the dataset (spot-check a spread of them).
    for (let k = 0; k < 6000; k += 397) {
      for (const id of [list.pairs[k].a, list.pairs[k].b]) Deno.statSync(`${lfw}/${id}`);
    }
    const dev = parsePairs(
      await Deno.readTextFile(`${lfw}/pairsDevTrain.txt`),
      "pairsDevTrain.txt",
    );
    assertEquals([dev.folds, dev.pairs.length, dev.pairs.filter((p) => p.same).length], [
      1,
      2200,
      1100,
    ]);
  },
});
