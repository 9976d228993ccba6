// In-memory standard streams for running stages in-process in tests, and small stream builders.
import type { Io } from "../src/cli/io.ts";
import { main } from "../main.ts";
import type { ImageRecord } from "../src/format/records.ts";
import { RecordStreamWriter } from "../src/format/stream.ts";

export interface Captured {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A readable that hands out `bytes` in chunks on demand and counts what was pulled. */
export function chunkedReadable(
  bytes: Uint8Array,
  chunk = 65536,
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => Math.min(at, bytes.length) };
}

/** Runs `p2sgrad args…` in-process with `stdin` as input; returns the exit code and output. */
export async function runStage(
  args: string[],
  stdin: Uint8Array | ReadableStream<Uint8Array> = new Uint8Array(0),
  stdout?: WritableStream<Uint8Array>,
): Promise<Captured> {
  const out: Uint8Array[] = [];
  const err: string[] = [];
  const dec = new TextDecoder();
  const io: Io = {
    stdin: stdin instanceof ReadableStream ? stdin : chunkedReadable(stdin).stream,
    stdout: stdout ?? new WritableStream({ write: (c) => void out.push(c.slice()) }),
    stderr: new WritableStream({ write: (c) => void err.push(dec.decode(c)) }),
    stderrIsTerminal: false,
  };
  const code = await main(args, io);
  return { code, stdout: concat(out), stderr: err.join("") };
}

/** Encodes image records as an images stream. */
export async function imagesStream(records: ImageRecord[], batchRows = 256): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c.slice()) });
  const writer = new RecordStreamWriter(sink, { kind: "images" }, batchRows);
  for (const r of records) await writer.write(r);
  await writer.close();
  return concat(chunks);
}
