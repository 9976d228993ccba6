// The machine and code a measurement came from (CPU, cores, Deno, p2sgrad, git commit), so
// a report or a benchmark figure can be compared with another only when they match.
import os from "node:os";
import denoJson from "../../deno.json" with { type: "json" };

export interface Environment {
  p2sgrad: string;
  deno: string;
  os: string;
  cpu: string;
  cores: number;
  /** Commit of the checkout (null outside a git checkout); `dirty` when tracked files changed. */
  commit: string | null;
  dirty: boolean | null;
  /** The WebGPU adapter, when the caller knows it (a run.json, or getGpu()). */
  adapter?: string;
  /** Load average over 1, 5 and 15 minutes when allowed, to judge noisy timings. */
  load?: number[];
}

const ROOT = new URL("../../", import.meta.url).pathname;

/** Facts about this machine and checkout; never throws (unknowns become "unknown" or null). */
export async function environment(adapter?: string): Promise<Environment> {
  const { commit, dirty } = await gitState();
  const env: Environment = {
    p2sgrad: denoJson.version,
    deno: Deno.version.deno,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    cpu: await cpuModel(),
    cores: navigator.hardwareConcurrency,
    commit,
    dirty,
  };
  if (adapter) env.adapter = adapter;
  const load = await loadAverage();
  if (load) env.load = load;
  return env;
}

async function cpuModel(): Promise<string> {
  // Deno guards /proc/cpuinfo behind --allow-all; node:os needs only --allow-sys=cpus.
  if ((await Deno.permissions.query({ name: "sys", kind: "cpus" })).state === "granted") {
    const model = os.cpus()[0]?.model;
    if (model) return model.trim();
  }
  return "unknown (grant --allow-sys=cpus)";
}

/** Load average over 1, 5 and 15 minutes, when --allow-sys=loadavg is granted. */
export async function loadAverage(): Promise<number[] | undefined> {
  if ((await Deno.permissions.query({ name: "sys", kind: "loadavg" })).state !== "granted") {
    return undefined;
  }
  return Deno.loadavg().map((x) => Number(x.toFixed(2)));
}

/** The commit from `git` when it may run, else read from .git (no --allow-run needed). */
async function gitState(): Promise<{ commit: string | null; dirty: boolean | null }> {
  try {
    const run = async (args: string[]) => {
      const out = await new Deno.Command("git", {
        args,
        cwd: ROOT,
        stdout: "piped",
        stderr: "null",
      })
        .output();
      if (!out.success) throw new Error(`git ${args[0]} failed`);
      return new TextDecoder().decode(out.stdout).trim();
    };
    const commit = await run(["rev-parse", "HEAD"]);
    const status = await run(["status", "--porcelain", "--untracked-files=no"]);
    return { commit, dirty: status.length > 0 };
  } catch {
    return { commit: await readGitHead(), dirty: null };
  }
}

async function readGitHead(): Promise<string | null> {
  try {
    const head = (await Deno.readTextFile(`${ROOT}.git/HEAD`)).trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    try {
      return (await Deno.readTextFile(`${ROOT}.git/${ref}`)).trim();
    } catch {
      const packed = await Deno.readTextFile(`${ROOT}.git/packed-refs`);
      const line = packed.split("\n").find((l) => l.endsWith(` ${ref}`));
      return line ? line.split(" ")[0] : null;
    }
  } catch {
    return null;
  }
}

/** One line for reports: "p2sgrad 0.1.0 @ 1a2b3c4 (dirty), Deno 2.9.6, linux x86_64, CPU × N". */
export function describeEnvironment(e: Environment): string {
  const commit = e.commit
    ? ` @ ${e.commit.slice(0, 10)}${e.dirty ? " (with local changes)" : ""}`
    : "";
  return `p2sgrad ${e.p2sgrad}${commit}, Deno ${e.deno}, ${e.os}, ${e.cpu} × ${e.cores} cores` +
    (e.adapter ? `, adapter ${e.adapter}` : "");
}
