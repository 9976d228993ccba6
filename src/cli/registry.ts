// The subcommands, loaded on demand so `p2sgrad align` does not compile the trainer.
import type { Stage } from "./stage.ts";

export const STAGES: Record<string, { summary: string; load: () => Promise<Stage> }> = {
  prepare: {
    summary: "list a dataset (folder, list, RecordIO, LFW, synthetic) as an images stream",
    load: async () => (await import("./prepare.ts")).stage,
  },
  align: {
    summary: "decode and align images to faces (5-point template, centre crop or resize)",
    load: async () => (await import("./align.ts")).stage,
  },
  train: {
    summary: "train a backbone with a cosine head (P2SGrad by default) on WebGPU",
    load: async () => (await import("./train.ts")).stage,
  },
  embed: {
    summary: "compute L2-normalised embeddings of faces with a trained model",
    load: async () => (await import("./embed.ts")).stage,
  },
  evaluate: {
    summary: "score embeddings on LFW pairs, IJB-C templates or MegaFace-style identification",
    load: async () => (await import("./evaluate.ts")).stage,
  },
  inspect: {
    summary: "show a stream's kind, schema, row count and first rows (NDJSON), or a contact sheet",
    load: async () => (await import("./inspect.ts")).stage,
  },
  experiment: {
    summary: "reproduce the paper's comparisons: heads, label noise, s/m sensitivity",
    load: async () => (await import("./experiment.ts")).stage,
  },
};
