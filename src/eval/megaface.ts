// MegaFace-style identification over streamed distractors: probes are scored against the
// distractors a tile at a time by a running top-K scorer (the GPU op in the CLI, the CPU
// reference in tests), and ranks, CMC and TAR at FAR 1e-6 are taken at 10, 100, 1,000, …
// distractors and at the end, without ever holding a probe × distractor matrix.
import {
  cmcAt,
  genuineTrials,
  MEGAFACE_VERIFICATION_RULE,
  trialPairs,
  trialRanks,
  type Trials,
  type VerificationAtFar,
  verificationAtFar,
} from "./identification.ts";
import { megafaceKey } from "./noise.ts";

/** What the identification needs from a scorer (DistractorTopK on the GPU). */
export interface TopKScorer {
  readonly tileRows: number;
  push(rows: Float32Array, count: number): Promise<void>;
  /**
   * Scores rows against the probes without touching the lists (rows × probes). Genuine
   * scores then come from the same arithmetic as distractor scores, so a distractor that
   * duplicates a gallery image ties it exactly (and counts against the probe).
   */
  scoreRows?(rows: Float32Array, count: number): Promise<Float32Array>;
  read(): Promise<{ val: Float32Array; K: number; seen: number }>;
  destroy(): void;
}

export interface ProbeSet {
  ids: string[];
  identities: string[];
  /** rows × dim, L2-normalised. */
  feats: Float32Array;
}

/** One batch of distractors in stream order. */
export interface DistractorBatch {
  ids: string[];
  feats: Float32Array;
}

export interface Checkpoint {
  distractors: number;
  rank1: number;
  cmc: Record<string, number>;
  tar_at_far_1e6: Omit<VerificationAtFar, "target"> & { target: number };
}

export interface IdentificationResult {
  protocol: "identification";
  conventions: Record<string, string | number | null>;
  checkpoints: Checkpoint[];
  /** CMC at ranks 1..K with all distractors. */
  cmc_curve: { rank: number[]; rate: number[] };
  counts: {
    probes: number;
    gallery: number;
    trials: number;
    distractors: number;
    distractor_noise_removed: number;
    K: number;
  };
}

export const CMC_RANKS = [1, 5, 10];

/** Genuine trial scores from the scorer's own kernel, a gallery tile at a time. */
async function scoredTrials(
  scorer: TopKScorer,
  probes: ProbeSet,
  gallery: ProbeSet,
  dim: number,
): Promise<Trials> {
  const pairs = trialPairs(probes, gallery);
  const score = new Float64Array(pairs.probe.length);
  const P = probes.ids.length, G = gallery.ids.length;
  for (let g0 = 0; g0 < G; g0 += scorer.tileRows) {
    const g1 = Math.min(G, g0 + scorer.tileRows);
    const s = await scorer.scoreRows!(gallery.feats.subarray(g0 * dim, g1 * dim), g1 - g0);
    for (let t = 0; t < score.length; t++) {
      const g = pairs.gallery[t];
      if (g >= g0 && g < g1) score[t] = s[(g - g0) * P + pairs.probe[t]];
    }
  }
  return { ...pairs, score };
}

export async function identify(opts: {
  probes: ProbeSet;
  gallery: ProbeSet;
  dim: number;
  distractors: AsyncIterable<DistractorBatch>;
  makeScorer: (probeFeats: Float32Array, probes: number) => TopKScorer;
  /** MegaFace noise list (keys as megafaceKey gives them): these distractors are dropped. */
  distractorNoise?: Set<string>;
  onProgress?: (seen: number) => void | Promise<void>;
}): Promise<IdentificationResult> {
  const { probes, gallery, dim } = opts;
  const P = probes.ids.length;
  const scorer = opts.makeScorer(probes.feats, P);
  const trials = scorer.scoreRows
    ? await scoredTrials(scorer, probes, gallery, dim)
    : genuineTrials(probes, gallery, dim);
  const tile = new Float32Array(scorer.tileRows * dim);
  const checkpoints: Checkpoint[] = [];
  let filled = 0, seen = 0, removed = 0, next = 10, K = 0;
  let lastTop: Float32Array | null = null;

  const measure = async () => {
    const top = await scorer.read();
    K = top.K;
    lastTop = top.val;
    const ranks = trialRanks(trials, top.val, top.K, top.seen);
    const cmc = cmcAt(ranks, CMC_RANKS.filter((r) => r <= top.K));
    checkpoints.push({
      distractors: top.seen,
      rank1: cmc[0],
      cmc: Object.fromEntries(
        CMC_RANKS.filter((r) => r <= top.K).map((r, i) => [String(r), cmc[i]]),
      ),
      tar_at_far_1e6: verificationAtFar(trials.score, top.val, top.K, P, top.seen, 1e-6),
    });
  };
  const flush = async () => {
    if (filled === 0) return;
    await scorer.push(tile.subarray(0, filled * dim), filled);
    seen += filled;
    filled = 0;
    await opts.onProgress?.(seen);
    if (seen === next) {
      await measure();
      next *= 10;
    }
  };
  try {
    for await (const batch of opts.distractors) {
      for (let i = 0; i < batch.ids.length; i++) {
        if (opts.distractorNoise?.has(megafaceKey(batch.ids[i]))) {
          removed++;
          continue;
        }
        tile.set(batch.feats.subarray(i * dim, (i + 1) * dim), filled * dim);
        filled++;
        // A tile ends when full or at the next checkpoint, so checkpoints are exact counts.
        if (filled === scorer.tileRows || seen + filled === next) await flush();
      }
    }
    await flush();
    if (checkpoints.at(-1)?.distractors !== seen) await measure();
  } finally {
    scorer.destroy();
  }
  const ranks = trialRanks(trials, lastTop ?? new Float32Array(0), Math.max(K, 1), seen);
  const rankAxis = Array.from({ length: Math.max(K, 1) }, (_, i) => i + 1);
  return {
    protocol: "identification",
    conventions: {
      score:
        "cosine of L2-normalised embeddings, f32, the same kernel for genuine and distractor pairs",
      trials:
        "each probe image against each other gallery image of its identity, hidden among the distractors",
      rank: "1 + distractors scoring >= the genuine score (ties count against)",
      distractor_subsets: "the first N distractors in stream order after noise removal",
      verification: MEGAFACE_VERIFICATION_RULE,
    },
    checkpoints,
    cmc_curve: { rank: rankAxis, rate: cmcAt(ranks, rankAxis) },
    counts: {
      probes: P,
      gallery: gallery.ids.length,
      trials: trials.probe.length,
      distractors: seen,
      distractor_noise_removed: removed,
      K,
    },
  };
}
