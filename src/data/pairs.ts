// Verification pairs files: LFW's pairs.txt layout (read and written) and plain
// `id1 id2 0|1` lists, as one PairList that the evaluation protocol scores fold by fold.
import { InputError } from "../cli/errors.ts";

/** One verification pair: two record ids, whether they show the same identity, its fold. */
export interface Pair {
  a: string;
  b: string;
  same: boolean;
  /** 0-based fold index, < PairList.folds. */
  fold: number;
}

export interface PairList {
  pairs: Pair[];
  /** Number of folds (10 for LFW's pairs.txt, 1 for pairsDevTrain.txt and plain lists). */
  folds: number;
}

/** Builds a record id from an LFW name and 1-based image number. */
export type IdOf = (name: string, n: number) => string;

/**
 * LFW's naming convention `Name/Name_NNNN.<ext>`: the id `prepare` gives an LFW image
 * (jpg) or a synthetic one (ppm), so pairs resolve to stream ids without a lookup table.
 */
export function lfwId(ext = "jpg"): IdOf {
  const suffix = ext === "" ? "" : `.${ext}`;
  return (name, n) => `${name}/${name}_${String(n).padStart(4, "0")}${suffix}`;
}

export interface ParseOptions {
  /** How LFW-format lines become ids; default `lfwId("jpg")`. Ignored for plain lists. */
  idOf?: IdOf;
}

/**
 * Parses a pairs file. LFW layout: a header `F\tP` (F folds, each P same-identity lines
 * `name n1 n2` then P different-identity lines `name1 n1 name2 n2`) or a single count `P`
 * (pairsDevTrain.txt: one fold). Otherwise a plain list: `id1 id2 same` per line, `same`
 * 1 or 0, with an optional 4th column giving the 0-based fold. Errors name `source:line`.
 */
export function parsePairs(text: string, source: string, options: ParseOptions = {}): PairList {
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== "");
  if (first < 0) {
    throw new InputError(
      `${source}: no pairs in the file`,
      "expected LFW's pairs.txt layout or `id1 id2 0|1` lines",
    );
  }
  if (/^\s*\d+(\s+\d+)?\s*$/.test(lines[first])) {
    return parseLfw(lines, first, source, options.idOf ?? lfwId("jpg"));
  }
  return parsePlain(lines, source);
}

function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

function positiveInt(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : null;
}

function parseLfw(lines: string[], headerAt: number, source: string, idOf: IdOf): PairList {
  const head = fields(lines[headerAt]).map(Number);
  const folds = head.length === 2 ? head[0] : 1;
  const perFold = head.length === 2 ? head[1] : head[0];
  if (folds < 1 || perFold < 1) {
    throw new InputError(
      `${source}:${headerAt + 1}: header ${
        JSON.stringify(lines[headerAt].trim())
      } needs positive counts`,
      "LFW's header is `folds<TAB>pairs-per-class-per-fold`, e.g. `10\t300`",
    );
  }
  const expected = folds * 2 * perFold;
  const pairs: Pair[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const where = `${source}:${i + 1}`;
    const k = pairs.length;
    if (k >= expected) {
      throw new InputError(
        `${where}: more pairs than the header's ${folds} fold(s) × ${perFold} × 2 = ${expected}`,
        "fix the header counts or remove the extra lines",
      );
    }
    const fold = Math.floor(k / (2 * perFold));
    const same = k % (2 * perFold) < perFold;
    const f = fields(lines[i]);
    if (same) {
      const n1 = f.length === 3 ? positiveInt(f[1]) : null;
      const n2 = f.length === 3 ? positiveInt(f[2]) : null;
      if (n1 === null || n2 === null) {
        throw new InputError(
          `${where}: expected a same-identity line \`name n1 n2\` (pair ${
            (k % perFold) + 1
          } of ${perFold} in fold ${fold + 1}), got ${JSON.stringify(lines[i].trim())}`,
          "each LFW fold lists its same-identity pairs first, then its different-identity pairs",
        );
      }
      pairs.push({ a: idOf(f[0], n1), b: idOf(f[0], n2), same: true, fold });
    } else {
      const n1 = f.length === 4 ? positiveInt(f[1]) : null;
      const n2 = f.length === 4 ? positiveInt(f[3]) : null;
      if (n1 === null || n2 === null) {
        throw new InputError(
          `${where}: expected a different-identity line \`name1 n1 name2 n2\` (pair ${
            (k % perFold) + 1
          } of ${perFold} in fold ${fold + 1}), got ${JSON.stringify(lines[i].trim())}`,
          "each LFW fold lists its same-identity pairs first, then its different-identity pairs",
        );
      }
      pairs.push({ a: idOf(f[0], n1), b: idOf(f[2], n2), same: false, fold });
    }
  }
  if (pairs.length !== expected) {
    throw new InputError(
      `${source}: ${pairs.length} pairs, the header promises ${folds} fold(s) × ${perFold} × 2 = ${expected}`,
      "the file is cut short or its header is wrong",
    );
  }
  return { pairs, folds };
}

function parsePlain(lines: string[], source: string): PairList {
  const pairs: Pair[] = [];
  let folds = 1;
  let withFold: boolean | null = null;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    const where = `${source}:${i + 1}`;
    // Tabs separate when present, so ids with spaces survive in tab-separated lists.
    const f = lines[i].includes("\t")
      ? lines[i].trim().split("\t").map((s) => s.trim())
      : fields(lines[i]);
    if ((f.length !== 3 && f.length !== 4) || (f[2] !== "0" && f[2] !== "1") || !f[0] || !f[1]) {
      throw new InputError(
        `${where}: expected \`id1 id2 same [fold]\` with same 0 or 1, got ${
          JSON.stringify(lines[i].trim())
        }`,
        "or use LFW's pairs.txt layout, which starts with a `folds<TAB>pairs` header",
      );
    }
    const hasFold = f.length === 4;
    if (withFold !== null && hasFold !== withFold) {
      throw new InputError(
        `${where}: some lines give a fold column and some do not`,
        "give it on every line or none",
      );
    }
    withFold = hasFold;
    let fold = 0;
    if (hasFold) {
      if (!/^\d+$/.test(f[3])) {
        throw new InputError(
          `${where}: fold ${JSON.stringify(f[3])} is not a non-negative integer`,
        );
      }
      fold = Number(f[3]);
      folds = Math.max(folds, fold + 1);
    }
    pairs.push({ a: f[0], b: f[1], same: f[2] === "1", fold });
  }
  return { pairs, folds };
}

/** A same-identity pair as LFW writes it: one name, two 1-based image numbers. */
export interface LfwSame {
  name: string;
  n1: number;
  n2: number;
}

/** A different-identity pair as LFW writes it. */
export interface LfwDifferent {
  name1: string;
  n1: number;
  name2: string;
  n2: number;
}

/** One fold: as many different-identity pairs as same-identity ones. */
export interface LfwFold {
  same: LfwSame[];
  different: LfwDifferent[];
}

/**
 * Writes folds in LFW's pairs.txt layout: `folds\tP` header, then per fold P same lines
 * and P different lines, tab-separated. Every fold must hold P of each kind.
 */
export function formatLfwPairs(folds: LfwFold[]): string {
  if (folds.length === 0) throw new Error("formatLfwPairs: no folds");
  const per = folds[0].same.length;
  const out: string[] = [`${folds.length}\t${per}`];
  folds.forEach((fold, f) => {
    if (fold.same.length !== per || fold.different.length !== per) {
      throw new Error(
        `formatLfwPairs: fold ${
          f + 1
        } has ${fold.same.length} same and ${fold.different.length} different pairs; LFW's layout needs ${per} of each in every fold`,
      );
    }
    for (const p of fold.same) {
      out.push(`${checkName(p.name)}\t${checkNumber(p.n1)}\t${checkNumber(p.n2)}`);
    }
    for (const p of fold.different) {
      out.push(
        `${checkName(p.name1)}\t${checkNumber(p.n1)}\t${checkName(p.name2)}\t${checkNumber(p.n2)}`,
      );
    }
  });
  return out.join("\n") + "\n";
}

function checkName(name: string): string {
  if (name === "" || /\s/.test(name)) {
    throw new Error(`formatLfwPairs: name ${JSON.stringify(name)} is empty or has whitespace`);
  }
  return name;
}

function checkNumber(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`formatLfwPairs: image number ${n} must be an integer ≥ 1`);
  }
  return n;
}
