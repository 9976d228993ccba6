// p2sgrad evaluate: scores embeddings streams on LFW-style pairs, IJB-B/C templates or
// MegaFace-style identification and prints one JSON object (or a list with --compare) on
// stdout; --table prints a summary on stderr and --plot draws the ROC or CMC curve.
import { basename } from "@std/path";
import { parsePairs } from "../data/pairs.ts";
import { openRecordStream } from "../format/stream.ts";
import { getGpu } from "../gpu/device.ts";
import { DistractorTopK } from "../gpu/ops/topk.ts";
import type { EmbeddingTable } from "../eval/embeddings.ts";
import { evaluateIjb, IJB_FARS, type IjbResult, readIjbMeta } from "../eval/ijbc.ts";
import { evaluateLfw, LFW_FARS, type LfwResult, missingIds } from "../eval/lfw.ts";
import {
  type DistractorBatch,
  type IdentificationResult,
  identify,
  type ProbeSet,
} from "../eval/megaface.ts";
import { cleanFacescrub, parseNoiseList } from "../eval/noise.ts";
import { type Roc, thinCurve } from "../eval/roc.ts";
import { IdIndex } from "../eval/embeddings.ts";
import { type Series, writePlot } from "../report/mod.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log, openInput } from "./io.ts";
import type { Stage } from "./stage.ts";

const FLAGS = {
  protocol: { type: "string", arg: "NAME", help: "lfw | ijbc | identification (required)" },
  pairs: { type: "string", arg: "FILE", help: "lfw: LFW pairs.txt or 'id1 id2 0|1' lines" },
  folds: {
    type: "number",
    arg: "N",
    default: 10,
    help: "lfw: contiguous folds over the pair list",
  },
  meta: {
    type: "string",
    arg: "DIR",
    help: "ijbc: folder with <set>_face_tid_mid.txt, <set>_template_pair_label.txt",
  },
  "face-score": {
    type: "boolean",
    default: true,
    help: "ijbc: weigh images by <set>_name_5pts_score.txt when present (--no-face-score: off)",
  },
  probes: {
    type: "string",
    arg: "FILE",
    help: "identification: probe embeddings (default: the positional stream)",
  },
  gallery: {
    type: "string",
    arg: "FILE",
    help: "identification: gallery embeddings (default: the probes, MegaFace style)",
  },
  "gallery-list": {
    type: "string",
    arg: "FILE",
    help: "identification: ids (one a line) that form the gallery, split off the probes",
  },
  distractors: {
    type: "list",
    arg: "FILE,…",
    help: "identification: distractor embeddings streams, read in order",
  },
  "facescrub-noise": {
    type: "string",
    arg: "FILE",
    help: "identification: insightface facescrub_noises.txt (noisy probes → identity centre)",
  },
  "megaface-noise": {
    type: "string",
    arg: "FILE",
    help: "identification: insightface megaface_noises.txt (noisy distractors dropped)",
  },
  topk: {
    type: "number",
    arg: "K",
    default: 32,
    help: "identification: best distractor scores kept per probe (≥ 10 for CMC@10)",
  },
  tile: {
    type: "number",
    arg: "N",
    default: 4096,
    help: "identification: distractors scored per GPU tile",
  },
  "allow-missing": {
    type: "boolean",
    help: "skip pairs / images missing from the stream and count them, instead of failing",
  },
  compare: {
    type: "boolean",
    help: "evaluate every positional stream with the same protocol: a JSON list, one plot",
  },
  name: {
    type: "list",
    arg: "NAME,…",
    help: "names for the streams in JSON and plots (default: file names)",
  },
  plot: {
    type: "string",
    arg: "FILE",
    help: "draw the ROC (lfw, ijbc) or CMC (identification) curve: .svg, or .png",
  },
  table: { type: "boolean", help: "print a human-readable table on stderr" },
} satisfies FlagSpec;

const USAGE = `p2sgrad evaluate: verification and identification metrics of embeddings streams

Usage: p2sgrad evaluate --protocol lfw --pairs FILE [options] [embeddings|-]
       p2sgrad evaluate --protocol ijbc --meta DIR [options] [embeddings|-]
       p2sgrad evaluate --protocol identification [--gallery FILE] --distractors FILE,… [options] [probes|-]

Options:
${formatFlags(FLAGS)}

Output: one JSON object on stdout (a list of them with --compare), with the conventions
used. LFW: insightface verification.py's 10-fold accuracy (mean ± std), AUC, EER and TAR at
FAR 1e-1…1e-3. IJB-C: eval_ijbc.py's template pooling, AUC and TAR at FAR 1e-6…1e-1.
Identification: rank-1, CMC@1/5/10 and TAR at FAR 1e-6 at 10, 100, 1,000, … distractors.

Examples:
  p2sgrad embed -m run/model.safetensors lfw.faces | p2sgrad evaluate --protocol lfw --pairs LFW/pairs.txt --table
  p2sgrad evaluate --protocol lfw --pairs pairs.txt --compare a.arrow b.arrow --plot roc.svg
  p2sgrad evaluate --protocol identification facescrub.arrow --distractors megaface.arrow \\
    --facescrub-noise facescrub_noises.txt --megaface-noise megaface_noises.txt --table`;

type Flags = ReturnType<typeof parseFlags<typeof FLAGS>>["flags"];

/** Reads a whole embeddings stream into memory (LFW, IJB-C, probes and gallery). */
async function loadTable(
  io: Io,
  file: string | undefined,
): Promise<EmbeddingTable & { source: string }> {
  const input = await openInput(io, file);
  const stream = await openRecordStream(input.readable, "embeddings", input.name);
  const dim = stream.meta.dim;
  if (!dim) {
    throw new InputError(
      `${input.name}: embeddings stream without p2sgrad.dim`,
      "re-create it with `p2sgrad embed`",
    );
  }
  const ids: string[] = [], identities: string[] = [];
  const chunks: Float32Array[] = [], norms: Float32Array[] = [];
  for await (const b of stream.batches()) {
    ids.push(...b.id);
    identities.push(...b.identity);
    chunks.push(b.embedding.slice(0, b.length * dim));
    norms.push(b.norm.slice(0, b.length));
  }
  const feats = new Float32Array(ids.length * dim), normAll = new Float32Array(ids.length);
  let at = 0;
  chunks.forEach((c, i) => {
    feats.set(c, at * dim);
    normAll.set(norms[i], at);
    at += norms[i].length;
  });
  return {
    ids,
    identities,
    feats,
    norms: normAll,
    dim,
    meta: { ...stream.meta.extra, ...(stream.meta.model ? { model: stream.meta.model } : {}) },
    source: input.name,
  };
}

/** Distractor streams batch by batch, never whole. */
async function* distractorBatches(
  io: Io,
  files: string[],
  dim: number,
): AsyncGenerator<DistractorBatch> {
  for (const file of files) {
    const input = await openInput(io, file);
    const stream = await openRecordStream(input.readable, "embeddings", input.name);
    if (stream.meta.dim !== dim) {
      throw new InputError(
        `${input.name}: embeddings of dimension ${stream.meta.dim}, the probes have ${dim}`,
        "embed distractors and probes with the same model",
      );
    }
    for await (const b of stream.batches()) {
      yield { ids: b.id, feats: b.embedding.subarray(0, b.length * dim) };
    }
  }
}

function fmtPct(v: number): string {
  return Number.isFinite(v) ? (100 * v).toFixed(2) : "n/a";
}

type Result = (LfwResult | IjbResult | IdentificationResult) & { name?: string; source?: string };

function tableLines(results: Result[]): string[] {
  const first = results[0];
  const w = Math.max(6, ...results.map((r) => (r.name ?? "").length));
  if (first.protocol === "lfw") {
    const head = [
      "name".padEnd(w),
      "accuracy %".padStart(16),
      "AUC".padStart(8),
      "EER %".padStart(7),
      ...LFW_FARS.map((f) => `TAR@${f.toExponential()}`.padStart(12)),
    ];
    return [
      head.join("  "),
      ...results.map((r) => {
        const l = r as LfwResult;
        return [
          (r.name ?? "").padEnd(w),
          `${fmtPct(l.accuracy.mean)} ± ${fmtPct(l.accuracy.std)}`.padStart(16),
          l.roc.auc.toFixed(5).padStart(8),
          fmtPct(l.roc.eer).padStart(7),
          ...LFW_FARS.map((f) => fmtPct(l.roc.tar_at_far[f.toExponential()].tar).padStart(12)),
        ].join("  ");
      }),
    ];
  }
  if (first.protocol === "ijbc") {
    const head = [
      "name".padEnd(w),
      ...IJB_FARS.map((f) => f.toExponential().padStart(7)),
      "AUC %".padStart(7),
    ];
    return [
      head.join("  "),
      ...results.map((r) => {
        const j = r as IjbResult;
        return [
          (r.name ?? "").padEnd(w),
          ...IJB_FARS.map((f) => fmtPct(j.roc.tar_at_far[f.toExponential()].tar).padStart(7)),
          fmtPct(j.roc.auc).padStart(7),
        ].join("  ");
      }),
    ];
  }
  const id = first as IdentificationResult;
  const head = [
    "distractors".padStart(11),
    "rank-1 %".padStart(9),
    "CMC@5 %".padStart(8),
    "CMC@10 %".padStart(9),
    "TAR@1e-6 %".padStart(11),
    "exact",
  ];
  return [
    head.join("  "),
    ...id.checkpoints.map((c) =>
      [
        String(c.distractors).padStart(11),
        fmtPct(c.rank1).padStart(9),
        fmtPct(c.cmc["5"] ?? NaN).padStart(8),
        fmtPct(c.cmc["10"] ?? NaN).padStart(9),
        fmtPct(c.tar_at_far_1e6.tar).padStart(11),
        String(c.tar_at_far_1e6.exact),
      ].join("  ")
    ),
  ];
}

function rocSeries(name: string, roc: Roc): Series {
  const t = thinCurve(roc.fpr, roc.tpr, 2000, true);
  return { name, x: t.x, y: t.y };
}

async function loadPairs(file: string | undefined) {
  if (!file) throw new UsageError("--protocol lfw needs --pairs FILE");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch {
    throw new InputError(
      `${file}: cannot read the pairs file`,
      "give LFW's pairs.txt or a list of 'id1 id2 0|1' lines",
    );
  }
  return parsePairs(text, file);
}

async function runVerification(
  flags: Flags,
  files: (string | undefined)[],
  names: string[],
  io: Io,
  log: Log,
) {
  const results: Result[] = [];
  const series: Series[] = [];
  const pairs = flags.protocol === "lfw" ? (await loadPairs(flags.pairs)).pairs : null;
  const meta = flags.protocol === "ijbc" ? await readMeta(flags) : null;
  for (const [i, file] of files.entries()) {
    const table = await loadTable(io, file);
    const name = names[i];
    let result: Result, roc: Roc;
    if (pairs) {
      const missing = missingIds(pairs, new IdIndex(table.ids));
      if (missing.length > 0 && !flags["allow-missing"]) {
        throw new InputError(
          `${table.source}: ${missing.length} pair image(s) missing from the stream, e.g. ${
            missing.slice(0, 5).join(", ")
          }`,
          "check that the stream holds the pairs' images (ids like Name/Name_0001.jpg), or pass --allow-missing to skip those pairs",
        );
      }
      const out = evaluateLfw(
        table,
        pairs,
        checkRange("folds", flags.folds, { min: 1, integer: true }),
      );
      if (missing.length > 0) out.result.missing_examples = missing.slice(0, 10);
      [result, roc] = [out.result, out.roc];
      await log.line(
        `${name}: ${out.result.counts.pairs} pairs, accuracy ${
          fmtPct(out.result.accuracy.mean)
        } ± ${fmtPct(out.result.accuracy.std)} %`,
      );
    } else {
      const out = evaluateIjb(table, meta!, (done, total) => {
        if (done === total || done % 2_000_000 < 100_000) {
          void log.progress(`${name}: scored ${done} / ${total} template pairs`);
        }
      });
      if (out.missing.length > 0 && !flags["allow-missing"]) {
        throw new InputError(
          `${table.source}: ${out.missing.length} image(s) of ${
            meta!.name
          } missing from the stream, e.g. ${out.missing.slice(0, 5).join(", ")}`,
          "embed every image listed in the meta file, or pass --allow-missing to pool templates without them",
        );
      }
      if (out.missing.length > 0) out.result.missing_examples = out.missing.slice(0, 10);
      [result, roc] = [out.result, out.roc];
    }
    results.push({ name, source: table.source, ...result });
    series.push(rocSeries(name, roc));
  }
  if (flags.plot) {
    const lfw = flags.protocol === "lfw";
    await writePlot(flags.plot, {
      title: lfw ? "ROC on LFW pairs" : `ROC on ${meta!.name.toUpperCase()} templates`,
      xLabel: "False accept rate",
      yLabel: "True accept rate",
      xLog: true,
      xRange: lfw ? [1e-4, 1] : [1e-6, 1],
      yRange: [0, 1],
      series,
    });
  }
  return results;
}

async function readMeta(flags: Flags) {
  if (!flags.meta) throw new UsageError("--protocol ijbc needs --meta DIR");
  return await readIjbMeta(flags.meta, flags["face-score"]);
}

async function runIdentification(
  flags: Flags,
  positional: string[],
  io: Io,
  log: Log,
): Promise<Result> {
  if (flags.compare) {
    throw new UsageError(
      "--compare works with --protocol lfw and ijbc; run identification once per model",
    );
  }
  const probesFile = flags.probes ?? positional[0];
  const K = checkRange("topk", flags.topk, { min: 1, max: 4096, integer: true });
  const tileRows = checkRange("tile", flags.tile, { min: 1, integer: true });
  const probeTable = await loadTable(io, probesFile);
  const dim = probeTable.dim;
  let probes: ProbeSet = probeTable, gallery: ProbeSet = probeTable;
  if (flags.gallery) {
    const g = await loadTable(io, flags.gallery);
    if (g.dim !== dim) {
      throw new InputError(`${g.source}: dimension ${g.dim}, the probes have ${dim}`);
    }
    gallery = g;
  } else if (flags["gallery-list"]) {
    const listed = new Set(
      (await Deno.readTextFile(flags["gallery-list"])).split("\n").map((s) => s.trim()).filter((
        s,
      ) => s),
    );
    const pick = (keep: boolean): ProbeSet => {
      const rows = probeTable.ids.map((id, i) => listed.has(id) === keep ? i : -1).filter((i) =>
        i >= 0
      );
      const feats = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => feats.set(probeTable.feats.subarray(r * dim, (r + 1) * dim), i * dim));
      return {
        ids: rows.map((r) => probeTable.ids[r]),
        identities: rows.map((r) => probeTable.identities[r]),
        feats,
      };
    };
    [probes, gallery] = [pick(false), pick(true)];
    if (gallery.ids.length === 0) {
      throw new InputError(`${flags["gallery-list"]}: none of its ids are in ${probeTable.source}`);
    }
  }
  let facescrubReplaced = 0;
  if (flags["facescrub-noise"]) {
    const noise = parseNoiseList(await Deno.readTextFile(flags["facescrub-noise"]));
    const sets = gallery === probes ? [probes] : [probes, gallery];
    try {
      for (const s of sets) {
        facescrubReplaced += cleanFacescrub(s.ids, s.identities, s.feats, dim, noise);
      }
    } catch (err) {
      throw new InputError(
        (err as Error).message,
        "check that --facescrub-noise belongs to these probes",
      );
    }
  }
  const megafaceNoise = flags["megaface-noise"]
    ? parseNoiseList(await Deno.readTextFile(flags["megaface-noise"]))
    : undefined;
  const gpu = await getGpu();
  let lastLog = 0;
  const result = await identify({
    probes,
    gallery,
    dim,
    distractors: distractorBatches(io, flags.distractors, dim),
    makeScorer: (feats, P) => DistractorTopK.create(gpu, feats, P, dim, { K, tileRows }),
    distractorNoise: megafaceNoise,
    onProgress: async (seen) => {
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        await log.progress(`scored ${seen} distractors against ${probes.ids.length} probes`);
      }
    },
  });
  result.conventions.facescrub_noise = flags["facescrub-noise"]
    ? `${facescrubReplaced} probe/gallery features replaced by their identity centre + U(-0.001, 0.001), normalised (remove_noises.py)`
    : null;
  result.conventions.megaface_noise = megafaceNoise
    ? "listed distractors dropped (remove_noises.py sets them out of reach)"
    : null;
  result.conventions.flip = probeTable.meta.flip ?? null;
  result.conventions.device = gpu.adapterName;
  if (flags.plot) {
    await writePlot(flags.plot, {
      title: `CMC with ${result.counts.distractors} distractors`,
      xLabel: "Rank",
      yLabel: "Identification rate",
      xLog: true,
      series: [{
        name: basename(probeTable.source),
        x: result.cmc_curve.rank,
        y: result.cmc_curve.rate,
        markers: true,
      }],
    });
  }
  return { name: basename(probeTable.source), source: probeTable.source, ...result };
}

export const stage: Stage = {
  name: "evaluate",
  summary: "score embeddings on LFW pairs, IJB-C templates or MegaFace-style identification",
  usage: USAGE,
  async run(args: string[], io: Io): Promise<number> {
    const { flags, positional } = parseFlags(args, FLAGS);
    const protocol = flags.protocol;
    if (!protocol) throw new UsageError("--protocol is required (lfw, ijbc or identification)");
    if (!["lfw", "ijbc", "identification"].includes(protocol)) {
      throw new UsageError(`--protocol must be lfw, ijbc or identification, got '${protocol}'`);
    }
    if (!flags.compare && positional.length > 1) {
      throw new UsageError(
        `one embeddings stream expected, got ${positional.length} (use --compare to evaluate several)`,
      );
    }
    if (flags.plot && !/\.(svg|png)$/i.test(flags.plot)) {
      throw new UsageError(`--plot needs a .svg or .png file name, got '${flags.plot}'`);
    }
    const log = new Log(io.stderr, io.stderrIsTerminal);
    try {
      let results: Result[];
      if (protocol === "identification") {
        results = [await runIdentification(flags, positional, io, log)];
      } else {
        const files: (string | undefined)[] = positional.length > 0 ? positional : [undefined];
        if (flags.compare && files.length < 2) {
          throw new UsageError("--compare needs at least two embeddings streams");
        }
        if (flags.name.length > 0 && flags.name.length !== files.length) {
          throw new UsageError(
            `--name gives ${flags.name.length} names for ${files.length} streams`,
          );
        }
        const names = files.map((f, i) =>
          flags.name[i] ?? (f && f !== "-" ? basename(f).replace(/\.arrow$/, "") : "stdin")
        );
        results = await runVerification(flags, files, names, io, log);
      }
      if (flags.table) { for (const line of tableLines(results)) await log.line(line); }
      const json = JSON.stringify(
        flags.compare ? results : results[0],
        (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
        2,
      );
      const w = io.stdout.getWriter();
      await w.write(new TextEncoder().encode(json + "\n"));
      w.releaseLock();
      return 0;
    } finally {
      await log.close();
    }
  },
};
