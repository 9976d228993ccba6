// Renders synthetic faces on several threads and hands them back in the order asked for,
// so the stream's bytes do not depend on the thread count. Chunks of images go to workers
// round-robin with a bounded window in flight, which keeps memory flat and lets the caller's
// slow consumer (a pipe) hold everything back.
import { type SyntheticConfig, SyntheticRenderer } from "./synthetic.ts";
import type { RenderReply, RenderRequest } from "./synthetic_worker.ts";

export interface RenderedFace {
  ppm: Uint8Array;
  landmarks: Float32Array;
}

/** Images per message to a worker: large enough to amortise messaging, small for latency. */
const CHUNK = 32;
/** Chunks in flight per worker. */
const AHEAD = 2;
/** Below this many images, starting workers (and warming their JIT) costs more than it saves. */
export const MIN_IMAGES_FOR_WORKERS = 1000;

/**
 * Threads worth starting for `images` images: one per CPU but one (left to the stream's
 * encoding and the next stage of the pipeline), at most 8. None below 4 CPUs: measured on 2
 * shared cores, workers cost 30% more CPU per image and gained no wall time. None for small
 * jobs, or when Deno may not read the worker's module (the caller's thread renders then).
 */
export function defaultWorkers(images = Infinity): number {
  const cpus = navigator.hardwareConcurrency ?? 1;
  if (cpus < 4 || images < MIN_IMAGES_FOR_WORKERS) return 0;
  const url = new URL("./synthetic_worker.ts", import.meta.url);
  if (url.protocol !== "file:") return 0;
  const read = Deno.permissions.querySync({ name: "read", path: url });
  return read.state === "granted" ? Math.min(cpus - 1, 8) : 0;
}

/** Renders (index, image) jobs in order; `workers` 0 renders on this thread. */
export async function* renderFaces(
  cfg: SyntheticConfig,
  jobs: readonly { index: number; image: number }[],
  workers: number,
): AsyncGenerator<RenderedFace> {
  if (workers <= 0 || jobs.length <= CHUNK) {
    const r = new SyntheticRenderer(cfg);
    for (const j of jobs) yield r.render(j.index, j.image);
    return;
  }
  const len = new SyntheticRenderer(cfg).ppmLength;
  const chunks = Math.ceil(jobs.length / CHUNK);
  const pool: Worker[] = [];
  // Replies of each worker come back in the order it was sent chunks.
  const waiting: { resolve: (r: RenderReply) => void; reject: (e: Error) => void }[][] = [];
  const replies: Promise<RenderReply>[] = [];
  const send = (c: number) => {
    const w = c % pool.length;
    const part = jobs.slice(c * CHUNK, (c + 1) * CHUNK);
    const flat = new Int32Array(part.length * 2);
    part.forEach((j, i) => [flat[2 * i], flat[2 * i + 1]] = [j.index, j.image]);
    const reply = new Promise<RenderReply>((resolve, reject) =>
      waiting[w].push({ resolve, reject })
    );
    reply.catch(() => {}); // awaited in order below; a failure ahead of the reader is not unhandled
    replies[c] = reply;
    const request: RenderRequest = { cfg, jobs: flat };
    pool[w].postMessage(request, [flat.buffer]);
  };
  try {
    for (let w = 0; w < Math.min(workers, chunks); w++) {
      const worker = new Worker(new URL("./synthetic_worker.ts", import.meta.url).href, {
        type: "module",
      });
      waiting.push([]);
      worker.onmessage = (e: MessageEvent<RenderReply>) => {
        const next = waiting[w].shift();
        if (e.data.error) next?.reject(new Error(`synthetic face worker: ${e.data.error}`));
        else next?.resolve(e.data);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        for (const p of waiting[w].splice(0)) {
          p.reject(new Error(`synthetic face worker failed: ${e.message}`));
        }
      };
      pool.push(worker);
    }
    let sent = 0;
    for (; sent < Math.min(chunks, pool.length * AHEAD); sent++) send(sent);
    for (let c = 0; c < chunks; c++) {
      const reply = await replies[c];
      delete replies[c];
      if (sent < chunks) send(sent++);
      const n = reply.landmarks.length / 10;
      for (let i = 0; i < n; i++) {
        yield {
          ppm: reply.ppms.subarray(i * len, (i + 1) * len),
          landmarks: reply.landmarks.subarray(i * 10, (i + 1) * 10),
        };
      }
    }
  } finally {
    for (const w of pool) w.terminate();
  }
}
