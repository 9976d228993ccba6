// Which images a prepared stream holds and with which labels: identity filters, per-identity
// limits, an identity-disjoint train/val split, seeded label noise and shards. Pure functions
// over plain items, so every source (folders, lists, RecordIO, synthetic faces) shares them.
import { Rng } from "../util/random.ts";

export interface SelectOptions {
  /** Keep only these identities. */
  identities?: ReadonlySet<string>;
  /** Drop these identities. */
  excludeIdentities?: ReadonlySet<string>;
  /** Drop identities with fewer images (counted before --max-per-id). */
  minPerId?: number;
  /** Keep the first M images of each identity (in id order). */
  maxPerId?: number;
  /** Keep the first K identities (in identity order) that survive the filters above. */
  maxIds?: number;
  /** Identity-disjoint split: a seeded `valFraction` of identities is "val", the rest "train". */
  split?: "train" | "val";
  valFraction?: number;
  /** Fraction of images whose label is replaced by a random wrong one (seeded). */
  labelNoise?: number;
  /** Keep rows i with i mod count = index (after labelling, so labels agree across shards). */
  shard?: { index: number; count: number };
  seed?: number;
}

export interface Labels {
  label: number;
  /** The label before label noise. */
  cleanLabel: number;
}

export interface SelectReport {
  input: number;
  /** Images removed by each step, in the order applied. */
  removed: { step: string; images: number; identities: number }[];
  images: number;
  identities: number;
  /** Images whose label noise replaced. */
  noisy: number;
}

/** Random streams of the seed, one per use, so changing one option leaves the others' draws. */
const STREAM_SPLIT = 1, STREAM_NOISE = 2;

/**
 * Orders identity names: numerically when every name is an integer (CelebA ids, RecordIO
 * labels, so given dense labels survive), otherwise by code unit (sorted names, as LFW).
 */
export function identityOrder(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  if (list.length > 0 && list.every((n) => /^-?\d+$/.test(n))) {
    return list.sort((a, b) => Number(a) - Number(b));
  }
  return list.sort(compareStrings);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Applies the options in a fixed order; items come back sorted by id with dense labels. */
export function selectImages<T extends { id: string; identity: string }>(
  items: readonly T[],
  opt: SelectOptions = {},
): { items: (T & Labels)[]; report: SelectReport } {
  const seed = opt.seed ?? 0;
  const removed: SelectReport["removed"] = [];
  let rows = [...items].sort((a, b) => compareStrings(a.id, b.id));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].id === rows[i - 1].id) throw new Error(`image id '${rows[i].id}' appears twice`);
  }
  const step = (name: string, keep: (r: T) => boolean) => {
    const before = rows.length, idsBefore = countIdentities(rows);
    rows = rows.filter(keep);
    if (before !== rows.length) {
      removed.push({
        step: name,
        images: before - rows.length,
        identities: idsBefore - countIdentities(rows),
      });
    }
  };
  if (opt.identities) step("--identities", (r) => opt.identities!.has(r.identity));
  if (opt.excludeIdentities) {
    step("--exclude-identities", (r) => !opt.excludeIdentities!.has(r.identity));
  }
  if (opt.minPerId !== undefined && opt.minPerId > 1) {
    const counts = countPerIdentity(rows);
    step(`--min-per-id ${opt.minPerId}`, (r) => counts.get(r.identity)! >= opt.minPerId!);
  }
  if (opt.maxPerId !== undefined) {
    const seen = new Map<string, number>();
    step(`--max-per-id ${opt.maxPerId}`, (r) => {
      const n = (seen.get(r.identity) ?? 0) + 1;
      seen.set(r.identity, n);
      return n <= opt.maxPerId!;
    });
  }
  if (opt.maxIds !== undefined) {
    const kept = new Set(identityOrder(rows.map((r) => r.identity)).slice(0, opt.maxIds));
    step(`--max-ids ${opt.maxIds}`, (r) => kept.has(r.identity));
  }
  if (opt.split) {
    const val = valIdentities(rows.map((r) => r.identity), opt.valFraction ?? 0.1, seed);
    step(`--split ${opt.split}`, (r) => val.has(r.identity) === (opt.split === "val"));
  }
  const order = identityOrder(rows.map((r) => r.identity));
  const labelOf = new Map(order.map((name, i) => [name, i]));
  const labelled = rows.map((r) => {
    const label = labelOf.get(r.identity)!;
    return { ...r, label, cleanLabel: label };
  });
  const noisy = addLabelNoise(labelled, order.length, opt.labelNoise ?? 0, seed);
  let out = labelled;
  if (opt.shard) {
    const { index, count } = opt.shard;
    const before = out.length, idsBefore = countIdentities(out);
    out = out.filter((_, i) => i % count === index);
    removed.push({
      step: `--shard ${index}/${count}`,
      images: before - out.length,
      identities: idsBefore - countIdentities(out),
    });
  }
  return {
    items: out,
    report: {
      input: items.length,
      removed,
      images: out.length,
      identities: countIdentities(out),
      noisy,
    },
  };
}

/** The identities a seeded shuffle puts in the validation part: round(fraction·C) of them. */
export function valIdentities(
  identities: Iterable<string>,
  fraction: number,
  seed: number,
): Set<string> {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new Error(`val fraction ${fraction} is not in [0, 1]`);
  }
  const names = identityOrder(identities);
  const shuffled = new Rng(seed, STREAM_SPLIT).shuffle(names);
  return new Set(shuffled.slice(0, Math.round(fraction * names.length)));
}

/**
 * Replaces the label of exactly round(p·N) images, chosen by a seeded shuffle, with a label
 * drawn uniformly from the other C−1 classes; cleanLabel keeps the true one. Returns the count.
 */
export function addLabelNoise(rows: Labels[], classes: number, p: number, seed: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`label noise ${p} is not in [0, 1]`);
  const n = Math.round(p * rows.length);
  if (n === 0) return 0;
  if (classes < 2) throw new Error("label noise needs at least two identities");
  const rng = new Rng(seed, STREAM_NOISE);
  const order = rng.shuffle(rows.map((_, i) => i));
  for (let k = 0; k < n; k++) {
    const row = rows[order[k]];
    const wrong = rng.int(classes - 1);
    row.label = wrong >= row.cleanLabel ? wrong + 1 : wrong;
  }
  return n;
}

function countPerIdentity(rows: readonly { identity: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.identity, (counts.get(r.identity) ?? 0) + 1);
  return counts;
}

function countIdentities(rows: readonly { identity: string }[]): number {
  return new Set(rows.map((r) => r.identity)).size;
}
