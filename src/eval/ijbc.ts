// The IJB-B/C 1:1 protocol over an embeddings table: meta files matched to rows, template
// features pooled as eval_ijbc.py does, template pairs scored, ROC read out at FAR 1e-6…1e-1.
import { InputError } from "../cli/errors.ts";
import { parseIntColumns, textRows } from "./columns.ts";
import { type EmbeddingTable, IdIndex } from "./embeddings.ts";
import { equalErrorRate, type Roc, rocAuc, rocCurve, TAR_READOUT, tarAtFar } from "./roc.ts";
import { imageFeatures, scoreTemplatePairs, templateFeatures } from "./templates.ts";

export const IJB_FARS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];

/** The parsed meta files of one IJB set. */
export interface IjbMeta {
  name: string;
  images: string[];
  templates: Int32Array;
  medias: Int32Array;
  /** Detector face score per image (same order), when `*_name_5pts_score.txt` was given. */
  faceScores: Float32Array | null;
  t1: Int32Array;
  t2: Int32Array;
  label: Int32Array;
}

/** Parses `*_face_tid_mid.txt` (image template media). */
export function parseTidMid(text: string, source: string) {
  const rows = textRows(text);
  const images: string[] = [],
    templates = new Int32Array(rows.length),
    medias = new Int32Array(rows.length);
  rows.forEach(({ line, fields }, i) => {
    const t = Number(fields[1]), m = Number(fields[2]);
    if (fields.length < 3 || !Number.isInteger(t) || !Number.isInteger(m)) {
      throw new InputError(
        `${source}:${line}: expected 'image template media', got '${fields.join(" ")}'`,
      );
    }
    images.push(fields[0]);
    templates[i] = t;
    medias[i] = m;
  });
  return { images, templates, medias };
}

/** Parses `*_name_5pts_score.txt` (image x1 y1 … x5 y5 score): the score per image name. */
export function parseFaceScores(text: string, source: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const { line, fields } of textRows(text)) {
    const s = Number(fields[fields.length - 1]);
    if (fields.length < 2 || !Number.isFinite(s)) {
      throw new InputError(`${source}:${line}: the last field should be the face score`);
    }
    out.set(fields[0], s);
  }
  return out;
}

/** Reads the meta files of DIR (or DIR/meta): `<name>_face_tid_mid.txt` and friends. */
export async function readIjbMeta(dir: string, useFaceScores: boolean): Promise<IjbMeta> {
  let folder = dir;
  let files: string[] = [];
  for (const candidate of [dir, `${dir}/meta`]) {
    try {
      files = [...Deno.readDirSync(candidate)].map((e) => e.name);
    } catch {
      continue;
    }
    if (files.some((f) => f.endsWith("_face_tid_mid.txt"))) {
      folder = candidate;
      break;
    }
  }
  const tidMid = files.find((f) => f.endsWith("_face_tid_mid.txt"));
  if (!tidMid) {
    throw new InputError(
      `${dir}: no *_face_tid_mid.txt here or in ${dir}/meta`,
      "point --meta at the IJB-C folder holding meta/ijbc_face_tid_mid.txt",
    );
  }
  const name = tidMid.slice(0, -"_face_tid_mid.txt".length);
  const pairsFile = `${folder}/${name}_template_pair_label.txt`;
  const scoreFile = `${folder}/${name}_name_5pts_score.txt`;
  const tm = parseTidMid(await Deno.readTextFile(`${folder}/${tidMid}`), `${folder}/${tidMid}`);
  let pairBytes: Uint8Array;
  try {
    pairBytes = await Deno.readFile(pairsFile);
  } catch {
    throw new InputError(
      `${pairsFile}: cannot read the template pairs`,
      "IJB meta folders hold <name>_template_pair_label.txt beside <name>_face_tid_mid.txt",
    );
  }
  const [t1, t2, label] = parseIntColumns(pairBytes, 3, pairsFile);
  let faceScores: Float32Array | null = null;
  if (useFaceScores) {
    let text: string | null = null;
    try {
      text = await Deno.readTextFile(scoreFile);
    } catch {
      text = null; // optional: without it, images weigh by their norm only
    }
    if (text !== null) {
      const byName = parseFaceScores(text, scoreFile);
      faceScores = Float32Array.from(tm.images, (img) => {
        const s = byName.get(img);
        if (s === undefined) throw new InputError(`${scoreFile}: no face score for ${img}`);
        return s;
      });
    }
  }
  return { name, ...tm, faceScores, t1, t2, label };
}

export interface IjbResult {
  protocol: "ijbc";
  set: string;
  conventions: Record<string, string | boolean | null>;
  roc: {
    auc: number;
    eer: number;
    tar_at_far: Record<string, { tar: number; far: number; threshold: number }>;
  };
  counts: {
    images: number;
    missing_images: number;
    templates: number;
    pairs: number;
    genuine: number;
    impostor: number;
  };
  missing_examples?: string[];
}

/** Pools templates and scores the pairs; images missing from the table are left out. */
export function evaluateIjb(
  table: EmbeddingTable,
  meta: IjbMeta,
  onChunk?: (done: number, total: number) => void,
): { result: IjbResult; roc: Roc; missing: string[] } {
  const index = new IdIndex(table.ids);
  const { dim } = table;
  const n = meta.images.length;
  const emb = new Float32Array(n * dim), norms = new Float32Array(n);
  const templates = Int32Array.from(meta.templates);
  const missing: string[] = [];
  meta.images.forEach((img, i) => {
    const r = index.find(img);
    if (r < 0) {
      missing.push(img);
      templates[i] = -1;
      return;
    }
    emb.set(table.feats.subarray(r * dim, (r + 1) * dim), i * dim);
    norms[i] = table.norms[r];
  });
  const feats = imageFeatures(emb, norms, dim, meta.faceScores ?? undefined);
  const tf = templateFeatures(feats, dim, templates, meta.medias);
  let scores: Float64Array;
  try {
    scores = scoreTemplatePairs(tf, meta.t1, meta.t2, { onChunk });
  } catch (err) {
    throw new InputError(
      (err as Error).message,
      missing.length ? "images are missing from the stream (see --allow-missing)" : undefined,
    );
  }
  const roc = rocCurve(scores, meta.label);
  const tar: IjbResult["roc"]["tar_at_far"] = {};
  for (const far of IJB_FARS) {
    const t = tarAtFar(roc, far);
    tar[far.toExponential()] = { tar: t.tar, far: t.far, threshold: t.threshold };
  }
  const genuine = meta.label.reduce((s, v) => s + (v ? 1 : 0), 0);
  return {
    roc,
    missing,
    result: {
      protocol: "ijbc",
      set: meta.name,
      conventions: {
        image_feature: "embedding x norm (un-normalised)" +
          (meta.faceScores ? " x detector face score" : ""),
        template: "mean over images of a media, sum over media, L2-normalised (eval_ijbc.py)",
        score: "cosine of template features",
        roc: "sklearn roc_curve (drop_intermediate) over all template pairs",
        readout: TAR_READOUT,
        face_scores: meta.faceScores !== null,
        flip: table.meta.flip ?? null,
      },
      roc: { auc: rocAuc(roc), eer: equalErrorRate(roc), tar_at_far: tar },
      counts: {
        images: n,
        missing_images: missing.length,
        templates: tf.ids.length,
        pairs: meta.t1.length,
        genuine,
        impostor: meta.t1.length - genuine,
      },
    },
  };
}
