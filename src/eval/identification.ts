// MegaFace-style identification from per-probe top-K distractor scores: each probe image
// is matched against one gallery image of its identity hidden among the distractors (rank
// and CMC), and probe × distractor pairs are the impostors of a verification at tiny FAR.

/** The genuine trials: every (probe, gallery) pair of one identity, an image never with itself. */
export interface Trials {
  probe: Int32Array;
  gallery: Int32Array;
  /** Cosine of the two (normalised) embeddings, summed in float64. */
  score: Float64Array;
}

/** Every (probe, gallery) pair of one identity, an image never with itself. */
export function trialPairs(
  probes: { ids: string[]; identities: string[] },
  gallery: { ids: string[]; identities: string[] },
): { probe: Int32Array; gallery: Int32Array } {
  const byIdentity = new Map<string, number[]>();
  gallery.identities.forEach((who, g) => {
    const list = byIdentity.get(who) ?? [];
    list.push(g);
    byIdentity.set(who, list);
  });
  const probe: number[] = [], gal: number[] = [];
  probes.identities.forEach((who, p) => {
    for (const g of byIdentity.get(who) ?? []) {
      if (gallery.ids[g] === probes.ids[p]) continue;
      probe.push(p);
      gal.push(g);
    }
  });
  return { probe: Int32Array.from(probe), gallery: Int32Array.from(gal) };
}

/** The genuine trials with float64 dot products of the stored (normalised) embeddings. */
export function genuineTrials(
  probes: { ids: string[]; identities: string[]; feats: Float32Array },
  gallery: { ids: string[]; identities: string[]; feats: Float32Array },
  dim: number,
): Trials {
  const pairs = trialPairs(probes, gallery);
  const score = new Float64Array(pairs.probe.length);
  for (let t = 0; t < score.length; t++) {
    const p = pairs.probe[t] * dim, g = pairs.gallery[t] * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += probes.feats[p + d] * gallery.feats[g + d];
    score[t] = s;
  }
  return { ...pairs, score };
}

/**
 * Rank of each trial's gallery image among the distractors: 1 + the number of distractors
 * scoring at least as high (a tie counts against the probe). `top` holds each probe's K
 * best distractor scores, descending; `seen` how many distractors were scored. A rank of
 * K + 1 means "worse than K" when more than K distractors were seen.
 */
export function trialRanks(
  trials: Trials,
  top: Float32Array,
  K: number,
  seen: number,
): Int32Array {
  const valid = Math.min(K, seen);
  const ranks = new Int32Array(trials.probe.length);
  for (let t = 0; t < ranks.length; t++) {
    const row = trials.probe[t] * K, s = trials.score[t];
    let above = 0;
    while (above < valid && top[row + above] >= s) above++;
    ranks[t] = above + 1;
  }
  return ranks;
}

/** Fraction of trials with rank ≤ r, for each r (the CMC curve at those ranks). */
export function cmcAt(ranks: Int32Array, at: readonly number[]): number[] {
  return at.map((r) => {
    let hit = 0;
    for (const rank of ranks) if (rank <= r) hit++;
    return ranks.length === 0 ? NaN : hit / ranks.length;
  });
}

export interface VerificationAtFar {
  /** The FAR asked for. */
  target: number;
  tar: number;
  /** The FAR reached: impostors above the threshold / all impostor pairs. */
  far: number;
  threshold: number;
  impostors: number;
  /** False when a probe's K-th best distractor reached the threshold: TAR is then an upper bound. */
  exact: boolean;
}

export const MEGAFACE_VERIFICATION_RULE =
  "threshold = the (m+1)-th highest impostor (probe × distractor) score, m = floor(FAR × impostor pairs); " +
  "accept when score > threshold, so the FAR reached never exceeds the target";

/**
 * TAR at a FAR over probe × distractor impostor pairs, from each probe's top-K distractor
 * scores. Exact when no probe's list was cut at or above the threshold.
 */
export function verificationAtFar(
  genuine: Float64Array,
  top: Float32Array,
  K: number,
  probes: number,
  seen: number,
  target: number,
): VerificationAtFar {
  const impostors = probes * seen;
  const valid = Math.min(K, seen);
  const m = Math.floor(target * impostors);
  const known = new Float64Array(probes * valid);
  for (let p = 0; p < probes; p++) {
    for (let k = 0; k < valid; k++) known[p * valid + k] = top[p * K + k];
  }
  known.sort().reverse();
  const cut = seen > K; // some impostor scores were never kept
  let threshold: number, exact: boolean;
  if (m < known.length) {
    threshold = known[m];
    exact = true;
    if (cut) {
      for (let p = 0; p < probes; p++) if (top[p * K + K - 1] > threshold) exact = false;
    }
  } else if (!cut) {
    threshold = -Infinity; // every impostor may be accepted
    exact = true;
  } else {
    threshold = known[known.length - 1];
    exact = false;
  }
  let falseAccepts = 0;
  for (let i = 0; i < known.length; i++) if (known[i] > threshold) falseAccepts++;
  let accepted = 0;
  for (const s of genuine) if (s > threshold) accepted++;
  return {
    target,
    tar: genuine.length === 0 ? NaN : accepted / genuine.length,
    far: impostors === 0 ? 0 : falseAccepts / impostors,
    threshold,
    impostors,
    exact,
  };
}

/** 10, 100, 1,000, … below `total`, then `total` itself: the distractor counts reported. */
export function distractorCheckpoints(total: number, first = 10): number[] {
  const out: number[] = [];
  for (let n = first; n < total; n *= 10) out.push(n);
  if (total > 0) out.push(total);
  return out;
}
