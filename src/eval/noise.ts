// insightface's MegaFace cleaning (src/megaface/remove_noises.py), applied to embeddings:
// a FaceScrub image on the noise list is replaced by its identity's centre (sum of the
// clean features plus uniform noise in ±0.001, normalised), and a MegaFace distractor on
// the list gets a 100 in an extra dimension, which puts it out of reach of every probe:
// here it is dropped, which ranks the same.

/** Names on a noise list: `#` lines skipped; a tab-separated line contributes its 2nd field. */
export function parseNoiseList(text: string): Set<string> {
  const names = new Set<string>();
  for (const raw of text.split("\n")) {
    if (raw.startsWith("#")) continue;
    let line = raw.trim();
    if (line === "") continue;
    const fields = line.split("\t");
    if (fields.length > 1) line = fields[1].trim();
    names.add(line);
  }
  return names;
}

/** FaceScrub lists name the file only (`Aaron_Eckhart_136.png`): match the id's last part. */
export function facescrubKey(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}

/** MegaFace lists name `a1/a2/file.jpg`: match the id's last three parts. */
export function megafaceKey(id: string): string {
  return id.split("/").slice(-3).join("/");
}

/**
 * Replaces noisy probe/gallery features in place by their identity's centre. `feats` holds
 * normalised rows of `dim`. Returns the number replaced; an identity whose images are all
 * on the list is an error (insightface asserts the same).
 */
export function cleanFacescrub(
  ids: string[],
  identities: string[],
  feats: Float32Array,
  dim: number,
  noise: Set<string>,
  seed = 1,
): number {
  const centre = new Map<string, Float64Array>();
  const noisy: number[] = [];
  ids.forEach((id, i) => {
    if (noise.has(facescrubKey(id))) {
      noisy.push(i);
      return;
    }
    let c = centre.get(identities[i]);
    if (!c) centre.set(identities[i], c = new Float64Array(dim));
    for (let d = 0; d < dim; d++) c[d] += feats[i * dim + d];
  });
  let state = seed >>> 0 || 1;
  const uniform = () => { // xorshift32: reproducible noise, like a seeded np.random
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return -0.001 + 0.002 * (state / 4294967296);
  };
  for (const i of noisy) {
    const c = centre.get(identities[i]);
    if (!c) {
      throw new RangeError(
        `all images of ${identities[i]} are on the FaceScrub noise list (e.g. ${
          ids[i]
        }): no centre to use`,
      );
    }
    const f = new Float64Array(dim);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      f[d] = c[d] + uniform();
      norm += f[d] * f[d];
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) feats[i * dim + d] = f[d] / norm;
  }
  return noisy.length;
}
