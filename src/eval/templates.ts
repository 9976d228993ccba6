// IJB-B/C 1:1 template verification as insightface's eval_ijbc.py builds it: image
// features (un-normalised, optionally × face score) averaged within each media, summed over
// a template's media, L2-normalised; a pair's score is the cosine of its two templates.

/** Template features: one normalised row per template id, ids ascending (np.unique). */
export interface TemplateFeatures {
  ids: Int32Array;
  /** ids.length × dim, float64, L2-normalised rows (an all-zero template stays zero). */
  feats: Float64Array;
  dim: number;
}

/**
 * Pools image features into template features. `feats` holds one row of `dim` values per
 * image; `templates[i]` and `medias[i]` say where image i belongs; a negative template
 * skips the image (e.g. missing from the embeddings). Sums run in float64.
 */
export function templateFeatures(
  feats: Float32Array | Float64Array,
  dim: number,
  templates: Int32Array,
  medias: Int32Array,
): TemplateFeatures {
  const n = templates.length;
  if (medias.length !== n || feats.length !== n * dim) {
    throw new RangeError(
      `templateFeatures: ${n} templates, ${medias.length} medias, ${
        feats.length / dim
      } feature rows`,
    );
  }
  // Order images by (template, media) so each template and media is one contiguous run.
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => templates[i] >= 0);
  order.sort((a, b) => templates[a] - templates[b] || medias[a] - medias[b] || a - b);
  let unique = 0;
  for (let k = 0; k < order.length; k++) {
    if (k === 0 || templates[order[k]] !== templates[order[k - 1]]) unique++;
  }
  const ids = new Int32Array(unique);
  const out = new Float64Array(unique * dim);
  let at = 0;
  const tsum = new Float64Array(dim), msum = new Float64Array(dim);
  let k = 0;
  while (k < order.length) {
    const t = templates[order[k]];
    tsum.fill(0);
    while (k < order.length && templates[order[k]] === t) {
      const m = medias[order[k]];
      msum.fill(0);
      let count = 0;
      while (k < order.length && templates[order[k]] === t && medias[order[k]] === m) {
        const row = order[k] * dim;
        for (let d = 0; d < dim; d++) msum[d] += feats[row + d];
        count++;
        k++;
      }
      for (let d = 0; d < dim; d++) tsum[d] += msum[d] / count;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += tsum[d] * tsum[d];
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    ids[at] = t;
    for (let d = 0; d < dim; d++) out[at * dim + d] = tsum[d] * scale;
    at++;
  }
  return { ids, feats: out, dim };
}

/**
 * Cosine scores of template pairs, a chunk at a time (insightface uses 100,000) so the
 * caller can report progress over ~15.6 million pairs. A pair naming a template that has
 * no feature is an error listing it.
 */
export function scoreTemplatePairs(
  tf: TemplateFeatures,
  t1: Int32Array,
  t2: Int32Array,
  { chunk = 100_000, onChunk }: {
    chunk?: number;
    onChunk?: (done: number, total: number) => void;
  } = {},
): Float64Array {
  const index = new Map<number, number>();
  tf.ids.forEach((id, i) => index.set(id, i));
  const n = t1.length, dim = tf.dim, f = tf.feats;
  const rowA = new Int32Array(n), rowB = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = index.get(t1[i]), b = index.get(t2[i]);
    if (a === undefined || b === undefined) {
      throw new RangeError(
        `template pair ${i + 1} (${t1[i]} ${t2[i]}): template ${
          a === undefined ? t1[i] : t2[i]
        } has no images`,
      );
    }
    rowA[i] = a * dim;
    rowB[i] = b * dim;
  }
  const scores = new Float64Array(n);
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    for (let i = start; i < end; i++) {
      const a = rowA[i], b = rowB[i];
      let s = 0;
      for (let d = 0; d < dim; d++) s += f[a + d] * f[b + d];
      scores[i] = s;
    }
    onChunk?.(end, n);
  }
  return scores;
}

/**
 * The image features eval_ijbc.py pools: the un-normalised feature (embedding × norm, so
 * the network's confidence weighs in), times the detector's face score when one is given.
 */
export function imageFeatures(
  embeddings: Float32Array,
  norms: Float32Array,
  dim: number,
  faceScores?: Float32Array | Float64Array,
): Float64Array {
  const out = new Float64Array(embeddings.length);
  for (let i = 0; i < norms.length; i++) {
    const w = norms[i] * (faceScores ? faceScores[i] : 1);
    for (let d = 0; d < dim; d++) out[i * dim + d] = embeddings[i * dim + d] * w;
  }
  return out;
}
