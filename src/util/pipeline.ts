// Runs p2sgrad stages as a real shell-style pipeline of processes (stdout of one piped to
// stdin of the next), as a user would type `p2sgrad a | p2sgrad b | p2sgrad c`. Used by
// the demo and the experiments; each stage's stderr passes through to ours.

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The command line that runs main.ts with the permissions the stages need. */
export function stageCommand(args: string[]): { cmd: string; args: string[] } {
  return {
    cmd: Deno.execPath(),
    args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", MAIN, ...args],
  };
}

export interface PipelineResult {
  /** Exit code of each stage, in order. */
  codes: number[];
  ok: boolean;
}

/**
 * Runs the stages connected by pipes. The first stage reads `stdinFile` when given (else
 * nothing), the last writes to `stdoutFile` when given (else its bytes are discarded).
 * `tee` also copies what stage `after` writes into `file`, like `a | tee file | b`.
 */
export async function runPipeline(
  stages: string[][],
  opts: {
    stdinFile?: string;
    stdoutFile?: string;
    env?: Record<string, string>;
    tee?: { after: number; file: string };
  } = {},
): Promise<PipelineResult> {
  const children = stages.map((args, i) => {
    const { cmd, args: full } = stageCommand(args);
    return new Deno.Command(cmd, {
      args: full,
      stdin: i === 0 && !opts.stdinFile ? "null" : "piped",
      stdout: "piped",
      stderr: "inherit",
      env: opts.env,
    }).spawn();
  });
  const pumps: Promise<void>[] = [];
  if (opts.stdinFile) {
    const f = await Deno.open(opts.stdinFile);
    pumps.push(f.readable.pipeTo(children[0].stdin).catch(() => {}));
  }
  for (let i = 0; i + 1 < children.length; i++) {
    let out: ReadableStream<Uint8Array> = children[i].stdout;
    if (opts.tee?.after === i) {
      const [next, copy] = out.tee();
      const f = await Deno.open(opts.tee.file, { write: true, create: true, truncate: true });
      pumps.push(copy.pipeTo(f.writable).catch(() => {}));
      out = next;
    }
    pumps.push(out.pipeTo(children[i + 1].stdin).catch(() => {}));
  }
  const last = children[children.length - 1];
  if (opts.stdoutFile) {
    const tmp = `${opts.stdoutFile}.partial`;
    const out = await Deno.open(tmp, { write: true, create: true, truncate: true });
    pumps.push(last.stdout.pipeTo(out.writable));
  } else {
    pumps.push(last.stdout.cancel());
  }
  const codes = (await Promise.all(children.map((c) => c.status))).map((s) => s.code);
  await Promise.allSettled(pumps);
  const ok = codes.every((c) => c === 0);
  if (opts.stdoutFile) {
    if (ok) await Deno.rename(`${opts.stdoutFile}.partial`, opts.stdoutFile);
    else await Deno.remove(`${opts.stdoutFile}.partial`).catch(() => {});
  }
  return { codes, ok };
}
