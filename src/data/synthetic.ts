// The built-in synthetic face set: N identities × M images, each rendered on demand as a
// binary PPM with its exact 5 landmarks, plus an LFW-style pairs file over identities kept
// out of training. Everything is a function of (seed, identity, image), so the same
// arguments give the same bytes on any machine and any subset can be rendered alone.
import type { LfwFold } from "./pairs.ts";
import { Rng } from "../util/random.ts";
import { drawIdentity, type FaceIdentity } from "./synthetic_identity.ts";
import { FaceRenderer } from "./synthetic_render.ts";
import { drawView } from "./synthetic_view.ts";

export type SyntheticSplit = "train" | "pairs" | "all";

export interface SyntheticConfig {
  /** Identities generated in all (training and pairs identities together). */
  identities: number;
  /** Images per identity. */
  perIdentity: number;
  /** Image side in pixels. */
  size: number;
  seed: number;
  /** The share of identities reserved for the pairs file (never in the train split). */
  pairsFraction: number;
}

/**
 * Defaults sized for the demo on two CPU cores: 400 identities × 20 images (8,000 images,
 * about 300 MB of pixels at 112 px, rendered in seconds); 300 identities train, 100 make
 * LFW-style 10×300 pairs. Faces are 112 px like LFW crops; training aligns them to 64 px.
 */
export const SYNTHETIC_DEFAULTS: SyntheticConfig = {
  identities: 400,
  perIdentity: 20,
  size: 112,
  seed: 1,
  pairsFraction: 0.25,
};

/** One image to render: identity index and 0-based image number. */
export interface SyntheticItem {
  id: string;
  identity: string;
  index: number;
  image: number;
}

/** Digits of the identity number in names (at least 5, as `syn_00042`). */
function idDigits(n: number): number {
  return Math.max(5, String(Math.max(0, n - 1)).length);
}

/** Digits of the image number (at least 4, as LFW's `_0001`). */
function imageDigits(m: number): number {
  return Math.max(4, String(m).length);
}

/** `syn_00042`: zero-padded so names sort in index order. */
export function identityName(index: number, identities: number): string {
  return `syn_${String(index).padStart(idDigits(identities), "0")}`;
}

/** LFW-style id of image `image` (0-based; the file number is 1-based as in LFW). */
export function imageId(index: number, image: number, cfg: SyntheticConfig): string {
  const name = identityName(index, cfg.identities);
  return `${name}/${name}_${String(image + 1).padStart(imageDigits(cfg.perIdentity), "0")}.ppm`;
}

/**
 * Which identities each split holds. The pairs part is the last `round(fraction·N)`
 * identities, rounded down to an even count so lookalike siblings (2k, 2k+1) stay together.
 */
export function splitIdentities(cfg: SyntheticConfig): { train: number[]; pairs: number[] } {
  const n = cfg.identities;
  const k = Math.min(n, 2 * Math.floor(Math.round(cfg.pairsFraction * n) / 2));
  const all = Array.from({ length: n }, (_, i) => i);
  return { train: all.slice(0, n - k), pairs: all.slice(n - k) };
}

/** The images of a split, in id order. */
export function syntheticItems(cfg: SyntheticConfig, split: SyntheticSplit): SyntheticItem[] {
  const parts = splitIdentities(cfg);
  const ids = split === "all" ? [...parts.train, ...parts.pairs] : parts[split];
  const items: SyntheticItem[] = [];
  for (const index of ids) {
    const identity = identityName(index, cfg.identities);
    for (let image = 0; image < cfg.perIdentity; image++) {
      items.push({ id: imageId(index, image, cfg), identity, index, image });
    }
  }
  return items;
}

/** Renders items to PPM files with landmarks; keeps the last identity's parameters cached. */
export class SyntheticRenderer {
  #renderer: FaceRenderer;
  #who: FaceIdentity | null = null;
  #header: Uint8Array;

  constructor(readonly cfg: SyntheticConfig) {
    this.#renderer = new FaceRenderer(cfg.size);
    this.#header = new TextEncoder().encode(`P6\n${cfg.size} ${cfg.size}\n255\n`);
  }

  /** The identity parameters of `index` (cached for consecutive images of one identity). */
  identity(index: number): FaceIdentity {
    if (this.#who?.index !== index) this.#who = drawIdentity(this.cfg.seed, index);
    return this.#who;
  }

  /** Bytes of one PPM file: header and S·S·3 pixels. */
  get ppmLength(): number {
    return this.#header.length + this.cfg.size * this.cfg.size * 3;
  }

  /** A binary PPM (P6) of image `image` of identity `index`, and its landmarks. */
  render(index: number, image: number): { ppm: Uint8Array; landmarks: Float32Array } {
    const ppm = new Uint8Array(this.ppmLength);
    return { ppm, landmarks: this.renderInto(index, image, ppm, 0) };
  }

  /** Writes the PPM into `out` at `offset` (ppmLength bytes); returns the landmarks. */
  renderInto(index: number, image: number, out: Uint8Array, offset: number): Float32Array {
    const who = this.identity(index);
    const view = drawView(this.cfg.seed, who, image);
    out.set(this.#header, offset);
    return this.#renderer.render(who, view, out, offset + this.#header.length);
  }
}

/** Pairs over the reserved identities, per fold: how many of each kind it can supply. */
export interface PairsPlan {
  folds: number;
  perFold: number;
}

/**
 * The most pairs per fold (of each kind) the pairs identities allow, capped at LFW's 300.
 * Identities are dealt to folds in sibling pairs, so each fold needs at least 2 identities.
 */
export function maxPairsPerFold(cfg: SyntheticConfig, folds: number): number {
  const groups = foldIdentities(splitIdentities(cfg).pairs, folds);
  const m = cfg.perIdentity;
  let best = 300;
  for (const g of groups) {
    const same = m >= 2 ? g.length * (m * (m - 1)) / 2 : 0;
    const diff = (g.length * (g.length - 1)) / 2 * m * m;
    best = Math.min(best, same, diff);
  }
  return Math.floor(best);
}

/** Deals identities (in order, keeping pairs 2k, 2k+1 together) into `folds` contiguous groups. */
export function foldIdentities(ids: number[], folds: number): number[][] {
  const units: number[][] = [];
  for (let i = 0; i < ids.length; i++) {
    const last = units[units.length - 1];
    if (last && last.length === 1 && (last[0] ^ 1) === ids[i]) last.push(ids[i]);
    else units.push([ids[i]]);
  }
  const groups: number[][] = Array.from({ length: folds }, () => []);
  units.forEach((u, k) => groups[Math.floor((k * folds) / units.length)].push(...u));
  return groups;
}

const PAIRS_STREAM = 0x70616972;

/**
 * LFW-layout folds over the pairs identities: identity-disjoint folds, each with `perFold`
 * same-identity pairs (distinct image pairs, spread over the fold's identities) and
 * `perFold` different-identity pairs (distinct, uniformly drawn), all seeded.
 */
export function syntheticPairs(cfg: SyntheticConfig, plan: PairsPlan): LfwFold[] {
  const groups = foldIdentities(splitIdentities(cfg).pairs, plan.folds);
  const most = maxPairsPerFold(cfg, plan.folds);
  if (plan.perFold < 1 || plan.perFold > most) {
    throw new Error(`${plan.perFold} pairs per fold is not in 1..${most} for this configuration`);
  }
  const m = cfg.perIdentity;
  const name = (i: number) => identityName(i, cfg.identities);
  return groups.map((ids, f) => {
    const rng = new Rng(cfg.seed, PAIRS_STREAM + f);
    // Same: each identity's image pairs in a seeded order, taken round-robin over identities.
    const pairLists = ids.map(() => {
      const list: [number, number][] = [];
      for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) list.push([a, b]);
      return rng.shuffle(list);
    });
    const order = rng.shuffle([...ids.keys()]);
    const same = [];
    for (let t = 0; same.length < plan.perFold; t++) {
      const k = order[t % ids.length];
      const next = pairLists[k][Math.floor(t / ids.length)];
      if (next) same.push({ name: name(ids[k]), n1: next[0] + 1, n2: next[1] + 1 });
    }
    // Different: uniform over (identity a < identity b, image, image) without repeats.
    const different = [];
    const seen = new Set<string>();
    while (different.length < plan.perFold) {
      const a = rng.int(ids.length), b = rng.int(ids.length);
      if (a === b) continue;
      const [i1, i2] = a < b ? [a, b] : [b, a];
      const n1 = rng.int(m) + 1, n2 = rng.int(m) + 1;
      const key = `${i1} ${n1} ${i2} ${n2}`;
      if (seen.has(key)) continue;
      seen.add(key);
      different.push({ name1: name(ids[i1]), n1, name2: name(ids[i2]), n2 });
    }
    return { same, different };
  });
}
