// The three standard streams of a stage, injectable so tests run stages in-process.

export interface Io {
  /** Records in (an Arrow IPC stream or a file's bytes). */
  stdin: ReadableStream<Uint8Array>;
  /** Records out; nothing else is ever written here. */
  stdout: WritableStream<Uint8Array>;
  /** Logs and progress for people. */
  stderr: WritableStream<Uint8Array>;
  /** Whether stderr is an interactive terminal (progress bars) or a log (plain lines). */
  stderrIsTerminal: boolean;
}

export function processIo(): Io {
  return {
    stdin: Deno.stdin.readable,
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}

/** Opens the input named by a positional argument: `-` or nothing means stdin. */
export async function openInput(
  io: Io,
  file: string | undefined,
): Promise<{ name: string; readable: ReadableStream<Uint8Array> }> {
  if (file === undefined || file === "-") return { name: "stdin", readable: io.stdin };
  try {
    const f = await Deno.open(file, { read: true });
    return { name: file, readable: f.readable };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      const { InputError } = await import("./errors.ts");
      throw new InputError(`${file}: no such file`, "check the path, or pipe the stream on stdin");
    }
    throw err;
  }
}

/** Line-oriented writer for stderr that tolerates being closed. */
export class Log {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #enc = new TextEncoder();
  #progressShown = false;
  constructor(stderr: WritableStream<Uint8Array>, readonly isTerminal = false) {
    this.#writer = stderr.getWriter();
  }
  /** One line for people; clears a progress line first when on a terminal. */
  async line(text: string): Promise<void> {
    const prefix = this.#progressShown ? "\r\x1b[2K" : "";
    this.#progressShown = false;
    await this.#writer.write(this.#enc.encode(prefix + text + "\n")).catch(() => {});
  }
  /** A progress line: rewritten in place on a terminal, printed as a plain line otherwise. */
  async progress(text: string): Promise<void> {
    if (!this.isTerminal) return this.line(text);
    this.#progressShown = true;
    await this.#writer.write(this.#enc.encode("\r\x1b[2K" + text)).catch(() => {});
  }
  async close(): Promise<void> {
    if (this.#progressShown) await this.line("");
    this.#writer.releaseLock();
  }
}
