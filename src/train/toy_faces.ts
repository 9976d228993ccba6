// A tiny learnable faces stream for tests and smoke runs: each identity is a background
// colour and a bright block at its own (left/right asymmetric) place; each image adds
// seeded noise and a shift of up to a pixel. Seconds of training separate the identities.
import type { FaceRecord } from "../format/records.ts";
import { RecordStreamWriter } from "../format/stream.ts";
import { hash32 } from "../util/random.ts";

export interface ToyOptions {
  identities: number;
  perIdentity: number;
  /** Face side S (pixels). */
  size: number;
  /** Seed of the identities (colour, block place and size). */
  seed?: number;
  /** Seed of the per-image draws (shift, noise, per-image colour); default `seed`. Another
   * value gives other images of the same identities, e.g. a held-out set. */
  imageSeed?: number;
  /** Label of identity k (default k); lets a test build one-identity or unlabelled streams. */
  labelOf?: (identity: number) => number;
  /**
   * Colours drawn per image instead of per identity, so only the block's place and size
   * tell identities apart: an untrained network's features (dominated by colour) verify
   * poorly, a trained one well.
   */
  colourPerImage?: boolean;
}

/** The faces, identity after identity; ids `toyK/toyK_NNNN.png` (LFW's naming). */
export function toyFaces(o: ToyOptions): FaceRecord[] {
  const S = o.size, seed = o.seed ?? 1, img = o.imageSeed ?? seed;
  const out: FaceRecord[] = [];
  for (let k = 0; k < o.identities; k++) {
    const colour = (n: number, c: number) =>
      o.colourPerImage ? hash32(img, k, n, 10 + c) & 255 : hash32(seed, k, 1 + c) & 255;
    const bx = Math.floor(((hash32(seed, k, 4) % 1000) / 1000) * (S * 0.6)),
      by = Math.floor(((hash32(seed, k, 5) % 1000) / 1000) * (S * 0.6));
    const bw = Math.max(2, Math.floor(S * (0.25 + 0.2 * ((hash32(seed, k, 8) % 1000) / 1000))));
    for (let n = 0; n < o.perIdentity; n++) {
      const dx = (hash32(img, k, n, 6) % 3) - 1, dy = (hash32(img, k, n, 7) % 3) - 1;
      const pixels = new Uint8Array(S * S * 3);
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          const inBlock = x - dx >= bx && x - dx < bx + bw && y - dy >= by && y - dy < by + bw;
          for (let c = 0; c < 3; c++) {
            const noise = (hash32(img, (k << 16) | n, y * S + x, c) % 41) - 20;
            const base = colour(n, c);
            const v = (inBlock ? 255 - base : base) + noise;
            pixels[(y * S + x) * 3 + c] = Math.max(0, Math.min(255, v));
          }
        }
      }
      const name = `toy${k}`;
      const label = o.labelOf ? o.labelOf(k) : k;
      out.push({
        id: `${name}/${name}_${String(n + 1).padStart(4, "0")}.png`,
        identity: name,
        label,
        cleanLabel: label,
        pixels,
      });
    }
  }
  return out;
}

/** The faces as the bytes of a faces stream (what `p2sgrad align` would write). */
export function toyFacesStream(o: ToyOptions, batchRows = 16): Promise<Uint8Array> {
  return facesStreamBytes(toyFaces(o), o.size, batchRows);
}

/** Encodes face records as a faces stream. */
export async function facesStreamBytes(
  faces: FaceRecord[],
  size: number,
  batchRows = 16,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  const w = new RecordStreamWriter(sink, { kind: "faces", size }, batchRows);
  for (const f of faces) await w.write(f);
  await w.close();
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), at += c.length);
  return out;
}

/**
 * A plain pairs list (`id1 id2 1|0` lines) over toy faces: for each identity, its
 * consecutive images as same pairs, and as many different pairs across identities.
 */
export function toyPairs(o: ToyOptions): string {
  const id = (k: number, n: number) => `toy${k}/toy${k}_${String(n + 1).padStart(4, "0")}.png`;
  const lines: string[] = [];
  for (let k = 0; k < o.identities; k++) {
    for (let n = 0; n + 1 < o.perIdentity; n++) {
      lines.push(`${id(k, n)} ${id(k, n + 1)} 1`);
      lines.push(`${id(k, n)} ${id((k + 1) % o.identities, n + 1)} 0`);
    }
  }
  return lines.join("\n") + "\n";
}
