// Embedding throughput (faces/s) of `p2sgrad embed`'s inference path on the WebGPU adapter:
// the Embedder (input normalisation on the host, upload, forward, readback of the
// features, two batches in flight) with freshly initialised weights, per backbone.
//
//   deno run --allow-read --allow-env tasks/bench_embed.ts [--json] [--flip]
import { getGpu } from "../src/gpu/device.ts";
import {
  initParams,
  INSIGHTFACE_NORMALISATION,
  type ModelConfig,
  networkOf,
} from "../src/model/mod.ts";
import { Embedder } from "../src/train/embedder.ts";
import { hash32 } from "../src/util/random.ts";

export interface EmbedFigures {
  backbone: string;
  inputSize: number;
  /** Faces per submit actually used (lowered when the device's binding limit needs it). */
  batch: number;
  flip: boolean;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  adapter: string;
}

export const EMBED_PLAN = [
  { backbone: "resnet-lite", inputSize: 64, batch: 64, images: 1024 },
  { backbone: "iresnet50", inputSize: 112, batch: 64, images: 64 },
];

/** Times each plan entry after one warm-up batch (kernel compilation excluded). */
export async function benchEmbed(
  plan = EMBED_PLAN,
  opts: { flip?: boolean } = {},
): Promise<EmbedFigures[]> {
  const gpu = await getGpu();
  const out: EmbedFigures[] = [];
  for (const p of plan) {
    const config: ModelConfig = {
      backbone: p.backbone,
      embedding_dim: 512,
      input_size: p.inputSize,
      normalisation: INSIGHTFACE_NORMALISATION,
    };
    const state = initParams(networkOf(config), 1);
    const e = await Embedder.create(gpu, config, { batch: p.batch, flip: !!opts.flip, state });
    const stride = p.inputSize * p.inputSize * 3;
    const pixels = new Uint8Array(e.batch * stride).map((_, i) => hash32(7, i) & 255);
    await e.submit(pixels, e.batch); // warm-up: compiles the pipelines
    const batches = Math.max(1, Math.round(p.images / e.batch));
    const t0 = performance.now();
    let previous: Promise<Float32Array> | null = null;
    for (let b = 0; b < batches; b++) {
      const next = e.submit(pixels, e.batch);
      if (previous) await previous;
      previous = next;
    }
    await previous;
    const seconds = (performance.now() - t0) / 1000;
    e.destroy();
    out.push({
      backbone: p.backbone,
      inputSize: p.inputSize,
      batch: e.batch,
      flip: !!opts.flip,
      images: batches * e.batch,
      seconds,
      imagesPerSecond: (batches * e.batch) / seconds,
      adapter: gpu.adapterName,
    });
  }
  return out;
}

if (import.meta.main) {
  const figures = await benchEmbed(EMBED_PLAN, { flip: Deno.args.includes("--flip") });
  if (Deno.args.includes("--json")) console.log(JSON.stringify(figures, null, 2));
  else {
    console.log(`embed throughput on ${figures[0]?.adapter}`);
    for (const f of figures) {
      console.log(
        `  ${f.backbone.padEnd(12)} ${f.inputSize}px  batch ${String(f.batch).padStart(3)}${
          f.flip ? " +flip" : ""
        }  ${f.images} faces in ${f.seconds.toFixed(1)} s  ${f.imagesPerSecond.toFixed(1)} faces/s`,
      );
    }
  }
}
