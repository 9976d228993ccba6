// The LFW protocol end to end over an embeddings table: pairs matched to rows, the 10-fold
// accuracy of verification.py, and the ROC figures over all pairs.
import type { Pair } from "../data/pairs.ts";
import type { EmbeddingTable } from "./embeddings.ts";
import { IdIndex } from "./embeddings.ts";
import { equalErrorRate, type Roc, rocAuc, rocCurve, TAR_READOUT, tarAtFar } from "./roc.ts";
import { kfoldAccuracy, squaredDistances } from "./verification.ts";

export const LFW_FARS = [1e-1, 1e-2, 1e-3];

export interface LfwResult {
  protocol: "lfw";
  conventions: Record<string, string | number | null>;
  accuracy: { mean: number; std: number; folds: number[]; thresholds: number[] };
  roc: {
    auc: number;
    eer: number;
    tar_at_far: Record<string, { tar: number; far: number; distance_threshold: number }>;
  };
  counts: {
    pairs: number;
    same: number;
    different: number;
    missing_pairs: number;
    embeddings: number;
  };
  /** Missing ids (a few) when pairs were skipped. */
  missing_examples?: string[];
}

/** Pairs whose images are not in the table: the ids that are missing (deduplicated). */
export function missingIds(pairs: Pair[], index: IdIndex): string[] {
  const out = new Set<string>();
  for (const p of pairs) {
    if (index.find(p.a) < 0) out.add(p.a);
    if (index.find(p.b) < 0) out.add(p.b);
  }
  return [...out];
}

/** Evaluates LFW-style pairs; pairs with a missing image are skipped (the caller decides whether that is allowed). */
export function evaluateLfw(
  table: EmbeddingTable,
  pairs: Pair[],
  folds = 10,
): { result: LfwResult; roc: Roc } {
  const index = new IdIndex(table.ids);
  const { dim, feats } = table;
  const kept = pairs.filter((p) => index.find(p.a) >= 0 && index.find(p.b) >= 0);
  const a = new Float32Array(kept.length * dim), b = new Float32Array(kept.length * dim);
  const same = new Uint8Array(kept.length);
  kept.forEach((p, i) => {
    const ra = index.find(p.a), rb = index.find(p.b);
    a.set(feats.subarray(ra * dim, (ra + 1) * dim), i * dim);
    b.set(feats.subarray(rb * dim, (rb + 1) * dim), i * dim);
    same[i] = p.same ? 1 : 0;
  });
  const dist = squaredDistances(a, b, dim);
  const kf = kfoldAccuracy(dist, same, { folds });
  const roc = rocCurve(dist.map((d) => -d), same);
  const tar: LfwResult["roc"]["tar_at_far"] = {};
  for (const far of LFW_FARS) {
    const t = tarAtFar(roc, far);
    tar[far.toExponential()] = { tar: t.tar, far: t.far, distance_threshold: -t.threshold };
  }
  const nSame = same.reduce((s, v) => s + v, 0);
  return {
    roc,
    result: {
      protocol: "lfw",
      conventions: {
        distance: "squared L2 between embeddings re-normalised in float64 (verification.py)",
        folds: `${folds} contiguous folds over the pair list order (sklearn KFold, no shuffle)`,
        thresholds:
          "0, 0.01, ..., 3.99; a pair is 'same' when distance < threshold; best threshold = first maximum on the other folds",
        std: "numpy std, ddof 0",
        roc: "all pairs pooled, score = -distance",
        readout: TAR_READOUT,
        eer: "where FPR = 1 - TPR on the ROC polyline (linear interpolation)",
        flip: table.meta.flip ?? null,
      },
      accuracy: { mean: kf.mean, std: kf.std, folds: kf.accuracies, thresholds: kf.thresholds },
      roc: { auc: rocAuc(roc), eer: equalErrorRate(roc), tar_at_far: tar },
      counts: {
        pairs: kept.length,
        same: nSame,
        different: kept.length - nSame,
        missing_pairs: pairs.length - kept.length,
        embeddings: table.ids.length,
      },
    },
  };
}
