// p2sgrad: train face recognition with the P2SGrad gradient on WebGPU, stage by stage.
// This file only dispatches to the stage named first and maps errors to exit codes.
import denoJson from "./deno.json" with { type: "json" };
import { describe, InputError, isBrokenPipe, UsageError } from "./src/cli/errors.ts";
import { type Io, processIo } from "./src/cli/io.ts";
import { STAGES } from "./src/cli/registry.ts";

export const VERSION: string = denoJson.version;

function mainUsage(): string {
  const names = Object.keys(STAGES);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return `p2sgrad ${VERSION}: face recognition trained with P2SGrad on WebGPU

Usage: p2sgrad <stage> [options] [file]      (file '-' or none: stdin)

Stages (each reads and writes Arrow IPC record streams; logs go to stderr):
${names.map((n) => `  ${n.padEnd(width)}${STAGES[n].summary}`).join("\n")}

Example:
  p2sgrad prepare synthetic | p2sgrad align | p2sgrad train --out run/
  p2sgrad prepare LFW --landmarks LFW/lfw_landmark_150px.txt | p2sgrad align \\
    | p2sgrad embed --model run/model.safetensors | p2sgrad evaluate --protocol lfw --pairs LFW/pairs.txt

'p2sgrad <stage> --help' shows a stage's options.`;
}

/** Runs one command line; returns the exit code. Exported so tests run it in-process. */
export async function main(args: string[], io: Io = processIo()): Promise<number> {
  const enc = new TextEncoder();
  const say = async (text: string) => {
    const w = io.stderr.getWriter();
    await w.write(enc.encode(text.endsWith("\n") ? text : text + "\n")).catch(() => {});
    w.releaseLock();
  };
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    await say(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    await say(`p2sgrad ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const entry = STAGES[name];
  if (!entry) {
    await say(`p2sgrad: unknown stage '${name}'\n\n${mainUsage()}`);
    return 2;
  }
  const stage = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    await say(stage.usage);
    return 0;
  }
  try {
    return await stage.run(rest, io);
  } catch (err) {
    if (isBrokenPipe(err)) return 0;
    if (err instanceof UsageError) {
      await say(`p2sgrad ${name}: ${err.message}\n\n${stage.usage}`);
      return 2;
    }
    if (err instanceof InputError) {
      await say(`p2sgrad ${name}: ${err.message}`);
      return 1;
    }
    await say(`p2sgrad ${name}: ${describe(err)}\n${(err as Error)?.stack ?? ""}`);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
