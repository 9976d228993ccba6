// Synthetic-face benchmark: images per second for rendering alone and for the whole
// `prepare synthetic` stage (render, PPM, Arrow stream) on one thread and on worker
// threads, at a few sizes. Prints a table; `benchSynthetic()` returns the figures.
//
//   deno run --allow-read --allow-env --allow-sys tasks/bench_synthetic.ts [--images N]
// Other work on the machine makes wall-clock figures noisy, so each is the best of a few
// rounds, the load average is printed beside them, and images per CPU-second (process CPU
// time, all threads) is given too: it barely moves with the load.
import { parseArgs } from "@std/cli/parse-args";
import process from "node:process";
import { runSynthetic } from "../src/cli/prepare_synthetic.ts";
import type { Io } from "../src/cli/io.ts";
import { SYNTHETIC_DEFAULTS, SyntheticRenderer } from "../src/data/synthetic.ts";
import { defaultWorkers } from "../src/data/synthetic_pool.ts";

export interface SyntheticFigure {
  name: string;
  size: number;
  images: number;
  /** Best round's images per second of wall-clock time. */
  imagesPerSecond: number;
  /** Best round's images per second of process CPU time (all threads). */
  imagesPerCpuSecond: number;
  /** Bytes written per image (the PPM, or the stream share with the stage). */
  bytesPerImage: number;
}

/** Wall and CPU seconds of `f`. */
async function timed(f: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** Renders `images` faces (cycling identities, 20 images each) `rounds` times; best round. */
async function benchRender(size: number, images: number, rounds: number): Promise<SyntheticFigure> {
  const r = new SyntheticRenderer({ ...SYNTHETIC_DEFAULTS, size });
  let wall = Infinity, cpu = Infinity;
  for (let round = 0; round < rounds; round++) {
    const t = await timed(() => {
      for (let k = 0; k < images; k++) r.render(Math.floor(k / 20), k % 20);
    });
    wall = Math.min(wall, t.wall);
    cpu = Math.min(cpu, t.cpu);
  }
  return {
    name: "render + PPM, 1 thread",
    size,
    images,
    imagesPerSecond: images / wall,
    imagesPerCpuSecond: images / cpu,
    bytesPerImage: r.ppmLength,
  };
}

/** Runs the whole stage into a counting sink: what `prepare synthetic > file` costs. */
async function benchStage(
  size: number,
  images: number,
  rounds: number,
  workers: number,
): Promise<SyntheticFigure> {
  const perIdentity = 20, identities = Math.ceil(images / perIdentity);
  let wall = Infinity, cpu = Infinity, bytes = 0;
  for (let round = 0; round < rounds; round++) {
    bytes = 0;
    const io: Io = {
      stdin: new ReadableStream(),
      stdout: new WritableStream({ write: (c) => void (bytes += c.length) }),
      stderr: new WritableStream(),
      stderrIsTerminal: false,
    };
    const args = ["--identities", String(identities), "--per-identity", String(perIdentity)];
    args.push("--size", String(size), "--workers", String(workers));
    const t = await timed(async () => {
      const code = await runSynthetic(args, io);
      if (code !== 0) throw new Error(`prepare synthetic exited with ${code}`);
    });
    wall = Math.min(wall, t.wall);
    cpu = Math.min(cpu, t.cpu);
  }
  const n = identities * perIdentity;
  return {
    name: `prepare synthetic stage, ${workers === 0 ? "1 thread" : `${workers} workers`}`,
    size,
    images: n,
    imagesPerSecond: n / wall,
    imagesPerCpuSecond: n / cpu,
    bytesPerImage: bytes / n,
  };
}

export async function benchSynthetic(
  { images = 2000, sizes = [64, 112, 224], rounds = 3, workers = defaultWorkers() }: {
    images?: number;
    sizes?: number[];
    rounds?: number;
    workers?: number;
  } = {},
): Promise<SyntheticFigure[]> {
  const figures: SyntheticFigure[] = [];
  // Warm the JIT so the first size is not charged for compilation.
  await benchRender(112, 200, 1);
  for (const size of sizes) {
    const n = Math.max(100, Math.round((images * 112 * 112) / (size * size)));
    figures.push(await benchRender(size, n, rounds));
    figures.push(await benchStage(size, n, rounds, 0));
    if (workers > 0) figures.push(await benchStage(size, n, rounds, workers));
  }
  return figures;
}

if (import.meta.main) {
  const args = parseArgs(Deno.args, { string: ["images"] });
  const images = args.images ? Number(args.images) : 2000;
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  const cpus = navigator.hardwareConcurrency;
  console.log(`synthetic faces, best of 3 rounds, ${cpus} CPUs; load average before: ${load}`);
  const figures = await benchSynthetic({ images });
  console.log("| what | size | images | images/s (wall) | images per CPU-second | bytes/image |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const f of figures) {
    const cells = [
      f.name,
      f.size,
      f.images,
      f.imagesPerSecond.toFixed(0),
      f.imagesPerCpuSecond.toFixed(0),
    ];
    console.log(`| ${cells.join(" | ")} | ${f.bytesPerImage.toFixed(0)} |`);
  }
  console.log(`load average after: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
