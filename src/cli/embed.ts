// p2sgrad embed: faces stream in, embeddings stream out — batched inference of a trained
// model on WebGPU, optionally summing each face's features with its mirror's before the
// L2 normalisation (insightface's convention), the length before normalisation kept.
import { openRecordStream, RecordStreamWriter } from "../format/stream.ts";
import { getGpu } from "../gpu/device.ts";
import { loadModel } from "../model/model_file.ts";
import { Embedder, normaliseRows } from "../train/embedder.ts";
import { InputError, UsageError } from "./errors.ts";
import { checkRange, type FlagSpec, formatFlags, parseFlags } from "./flags.ts";
import { type Io, Log, openInput } from "./io.ts";
import type { Stage } from "./stage.ts";

const FLAGS = {
  model: {
    type: "string",
    short: "m",
    arg: "FILE",
    help: "model file (.safetensors from p2sgrad train) (required)",
  },
  flip: {
    type: "boolean",
    help: "add the features of the mirrored face before normalising (insightface's test-time flip)",
  },
  batch: {
    type: "number",
    arg: "N",
    default: 64,
    help: "faces per GPU submit (lowered if the device needs)",
  },
  backbone: {
    type: "string",
    arg: "NAME",
    help: "a PyTorch export without p2sgrad metadata: its backbone",
  },
  "input-size": {
    type: "number",
    arg: "S",
    help: "a PyTorch export without p2sgrad metadata: input side (112)",
  },
} satisfies FlagSpec;

const usage =
  `Usage: p2sgrad embed --model FILE.safetensors [options] [faces.arrow|-] > embeddings.arrow

Computes an embedding per face with the model's backbone in inference mode (BN running
statistics) on WebGPU. The faces must have the model's input size. Each output row holds
the L2-normalised embedding and, in the norm column, its length before normalisation;
with --flip the features of the face and of its mirror image are added first. The stream
metadata records the model (p2sgrad.model) and the flip (p2sgrad.flip).

Options:
${formatFlags(FLAGS)}

Examples:
  p2sgrad prepare data/lfw --landmarks data/lfw/lfw_landmark_150px.txt | p2sgrad align --size 64 \\
    | p2sgrad embed -m run/model.safetensors | p2sgrad evaluate --protocol lfw --pairs data/lfw/pairs.txt
  p2sgrad embed -m run/model.safetensors --flip lfw64.arrow > lfw64.emb.arrow
  p2sgrad embed -m ms1mv3_r50.safetensors --backbone iresnet50 lfw112.arrow > emb.arrow`;

export const stage: Stage = {
  name: "embed",
  summary: "compute L2-normalised embeddings of faces with a trained model",
  usage,
  run,
};

interface Queued {
  id: string[];
  identity: string[];
  label: Int32Array;
  features: Promise<Float32Array>;
}

async function run(args: string[], io: Io): Promise<number> {
  const { flags, positional } = parseFlags(args, FLAGS);
  if (positional.length > 1) {
    throw new UsageError(`expected at most one input, got ${positional.join(" ")}`);
  }
  if (flags.model === undefined) throw new UsageError("--model FILE is required");
  const batch = checkRange("batch", flags.batch, { min: 1, max: 4096, integer: true });
  const inputSize = flags["input-size"] === undefined
    ? undefined
    : checkRange("input-size", flags["input-size"], { min: 8, integer: true });
  const loaded = await loadModel(flags.model, { backbone: flags.backbone, input_size: inputSize });
  const config = loaded.config;
  const input = await openInput(io, positional[0]);
  const stream = await openRecordStream(input.readable, "faces", input.name);
  const S = stream.meta.size!;
  if (S !== config.input_size) {
    throw new InputError(
      `${input.name}: faces are ${S}×${S} but ${flags.model} (${config.backbone}) takes ${config.input_size}×${config.input_size} inputs`,
      `align the images for this model with \`p2sgrad align --size ${config.input_size}\``,
    );
  }
  const log = new Log(io.stderr, io.stderrIsTerminal);
  const gpu = await getGpu();
  const embedder = await Embedder.create(gpu, config, {
    batch,
    flip: flags.flip,
    state: loaded.state,
  });
  const D = embedder.dim, stride = S * S * 3, B = embedder.batch;
  const writer = new RecordStreamWriter(io.stdout, {
    kind: "embeddings",
    dim: D,
    model: flags.model,
    extra: { flip: String(flags.flip), backbone: config.backbone },
  });
  const started = performance.now();
  const staging = new Uint8Array(B * stride);
  const queue: Queued[] = [];
  let held = { id: [] as string[], identity: [] as string[], label: [] as number[] };
  let lastProgress = 0;

  const write = async () => {
    const q = queue.shift()!;
    const count = q.id.length;
    const { embedding, norm } = normaliseRows(await q.features, count, D);
    await writer.writeColumns({
      length: count,
      id: q.id,
      identity: q.identity,
      label: q.label,
      embedding,
      norm,
    });
    if (io.stderrIsTerminal && performance.now() - lastProgress > 500) {
      lastProgress = performance.now();
      await log.progress(`embed: ${writer.rows} faces`);
    }
  };
  const submit = async () => {
    const count = held.id.length;
    if (count === 0) return;
    queue.push({
      id: held.id,
      identity: held.identity,
      label: Int32Array.from(held.label),
      features: embedder.submit(staging, count),
    });
    held = { id: [], identity: [], label: [] };
    // Two submits in flight: the device works on one while the host decodes and fills the next.
    if (queue.length > 1) await write();
  };

  try {
    for await (const b of stream.batches()) {
      for (let i = 0; i < b.length; i++) {
        staging.set(b.pixels.subarray(i * stride, (i + 1) * stride), held.id.length * stride);
        held.id.push(b.id[i]);
        held.identity.push(b.identity[i]);
        held.label.push(b.label[i]);
        if (held.id.length === B) await submit();
      }
    }
    await submit();
    while (queue.length > 0) await write();
    await writer.close();
    const seconds = (performance.now() - started) / 1000;
    await log.line(
      `embed: ${writer.rows} faces → ${D}-d embeddings with ${config.backbone} (${flags.model})` +
        `${flags.flip ? " + flip" : ""} in ${seconds.toFixed(1)} s (${
          Math.round(writer.rows / Math.max(seconds, 1e-9))
        } faces/s, batch ${B})`,
    );
  } finally {
    // Let queued reads settle before the buffers go (a broken pipe ends us early).
    await Promise.allSettled(queue.map((q) => q.features));
    embedder.destroy();
    await log.close();
  }
  return 0;
}
