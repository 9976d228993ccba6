// Checks on the real protocol files in ../shared/data (skipped when absent): LFW's
// pairs.txt makes contiguous 600-pair folds of 300 same + 300 different, which is what
// KFold over the list order relies on; insightface's MegaFace noise lists parse.
import { assertEquals } from "@std/assert";
import { parsePairs } from "../src/data/pairs.ts";
import { kfoldRanges } from "../src/eval/verification.ts";
import { parseNoiseList } from "../src/eval/noise.ts";
import { dataset, skipReason } from "./helpers/data.ts";

const lfw = dataset("lfw"), megaface = dataset("megaface");

Deno.test({
  name: `LFW pairs.txt: KFold(10) over the list order is LFW's own 10 folds${
    lfw ? "" : ` (${skipReason("lfw")})`
  }`,
  ignore: !lfw,
  async fn() {
    const { pairs } = parsePairs(await Deno.readTextFile(`${lfw}/pairs.txt`), "pairs.txt");
    assertEquals(pairs.length, 6000);
    for (const [f, { start, end }] of kfoldRanges(pairs.length, 10).entries()) {
      const fold = pairs.slice(start, end);
      assertEquals(fold.every((p) => p.fold === f), true, `fold ${f}`);
      assertEquals(fold.filter((p) => p.same).length, 300);
    }
  },
});

Deno.test({
  name: `MegaFace noise lists parse${megaface ? "" : ` (${skipReason("megaface")})`}`,
  ignore: !megaface,
  async fn() {
    const fs = parseNoiseList(await Deno.readTextFile(`${megaface}/facescrub_noises.txt`));
    const mf = parseNoiseList(await Deno.readTextFile(`${megaface}/megaface_noises.txt`));
    assertEquals([...fs].every((n) => /\.(png|jpg)$/i.test(n) && !n.includes("/")), true);
    assertEquals([...mf].every((n) => n.split("/").length === 3), true);
    assertEquals(fs.size > 500 && mf.size > 500, true, `${fs.size} ${mf.size}`);
  },
});
