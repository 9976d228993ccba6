// Benchmark of the align stage on LFW (150×150 JPEGs → 112×112 faces): decode alone, warp
// alone, and the whole stage in-process (file reads, decode, warp, Arrow encoding).
//   deno run --allow-read --allow-env tasks/bench_align.ts [--images N] [--json]
// Timings depend on what else runs on the machine; repeat them before trusting a change.
import { main } from "../main.ts";
import type { Io } from "../src/cli/io.ts";
import { alignFace } from "../src/align/face.ts";
import { decodeImage } from "../src/image/decode.ts";
import type { RgbImage } from "../src/image/image.ts";
import { dataset } from "../tests/helpers/data.ts";

function sink(): { stream: WritableStream<Uint8Array>; bytes: () => number } {
  let n = 0;
  return { stream: new WritableStream({ write: (c) => void (n += c.length) }), bytes: () => n };
}

async function runQuiet(
  args: string[],
  stdin: ReadableStream<Uint8Array>,
  stdout: WritableStream<Uint8Array>,
) {
  const err: string[] = [];
  const dec = new TextDecoder();
  const io: Io = {
    stdin,
    stdout,
    stderr: new WritableStream({ write: (c) => void err.push(dec.decode(c)) }),
    stderrIsTerminal: false,
  };
  const code = await main(args, io);
  if (code !== 0) throw new Error(`p2sgrad ${args.join(" ")} exited ${code}: ${err.join("")}`);
}

/** Runs the benchmark on the first `images` LFW images; returns its figures. */
export async function benchAlign(images = 4000): Promise<Record<string, number>> {
  const lfw = dataset("lfw");
  if (!lfw) throw new Error("tasks/bench_align.ts needs ../shared/data/lfw (or P2SGRAD_DATA)");
  // The images stream (prepare is not what is timed).
  const chunks: Uint8Array[] = [];
  await runQuiet(
    ["prepare", lfw, "--landmarks", `${lfw}/lfw_landmark_150px.txt`],
    new ReadableStream(),
    new WritableStream({ write: (c) => void chunks.push(c.slice()) }),
  );
  const stream = new Blob(chunks as Uint8Array<ArrayBuffer>[]);
  const { openRecordStream } = await import("../src/format/stream.ts");
  const first: { path: string; landmarks: Float32Array }[] = [];
  let total = 0;
  for await (const r of (await openRecordStream(stream.stream(), "images")).records()) {
    if (first.length < images) first.push({ path: r.path, landmarks: r.landmarks! });
    total++;
  }
  const n = first.length;
  const files = await Promise.all(first.map((r) => Deno.readFile(r.path)));

  let t = performance.now();
  const decoded: RgbImage[] = [];
  for (const f of files) decoded.push(await decodeImage(f));
  const decodeMs = (performance.now() - t) / n;

  const out = new Uint8Array(112 * 112 * 3);
  t = performance.now();
  for (let i = 0; i < n; i++) {
    alignFace(decoded[i], first[i].landmarks, { mode: "landmarks", size: 112 }, out);
  }
  const warpMs = (performance.now() - t) / n;

  // The whole stage on all of LFW, output counted and dropped.
  const drop = sink();
  t = performance.now();
  await runQuiet(["align"], stream.stream(), drop.stream);
  const stageS = (performance.now() - t) / 1000;
  return {
    images_timed: n,
    decode_ms_per_image: decodeMs,
    warp_ms_per_face: warpMs,
    stage_images: total,
    stage_seconds: stageS,
    stage_faces_per_s: total / stageS,
    stage_output_mb: drop.bytes() / 1e6,
  };
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const at = Deno.args.indexOf("--images");
  const figures = await benchAlign(at >= 0 ? Number(Deno.args[at + 1]) : undefined);
  if (json) console.log(JSON.stringify(figures));
  else {
    console.log(
      "align benchmark (LFW 150×150 JPEG → 112×112, 1 thread; shared machine: numbers are noisy)",
    );
    console.log("| measure | value |\n|---|---|");
    console.log(
      `| JPEG decode (libjpeg-turbo wasm), ms/image | ${figures.decode_ms_per_image.toFixed(3)} |`,
    );
    console.log(`| 5-point warp 112×112, ms/face | ${figures.warp_ms_per_face.toFixed(3)} |`);
    console.log(
      `| align stage, all ${figures.stage_images} LFW images, s | ${
        figures.stage_seconds.toFixed(2)
      } |`,
    );
    console.log(`| align stage, faces/s | ${Math.round(figures.stage_faces_per_s)} |`);
  }
}
