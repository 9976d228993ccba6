// JPEG decode with libjpeg-turbo compiled to wasm (npm @cwasm/jpeg-turbo), pixel-identical to
// PIL. We instantiate the package's wasm ourselves instead of calling its decode(): that one
// leaks its decompressor and heap on every corrupt file (libjpeg's longjmp is a throwing stub),
// so after a few thousand bad files it fails on good ones; it also returns RGBA we would copy.
import { DecodeError, type RgbImage } from "./image.ts";

const TJPF_RGB = 0;

interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompressHeader3(
    handle: number,
    src: number,
    size: number,
    width: number,
    height: number,
    subsamp: number,
    colorspace: number,
  ): number;
  tjDecompress2(
    handle: number,
    src: number,
    size: number,
    dst: number,
    width: number,
    pitch: number,
    height: number,
    format: number,
    flags: number,
  ): number;
}

let wasmModule: WebAssembly.Module | undefined;
let turbo: { exports: TurboExports; handle: number } | undefined;

function loadModule(): WebAssembly.Module {
  if (!wasmModule) {
    const url = new URL("jpeg-turbo.wasm", import.meta.resolve("@cwasm/jpeg-turbo"));
    wasmModule = new WebAssembly.Module(Deno.readFileSync(url));
  }
  return wasmModule;
}

function fail(what: string): never {
  throw new Error(`libjpeg-turbo wasm called ${what}, which this build does not provide`);
}

/** A fresh instance; the previous one is dropped whole after a libjpeg error. */
function instantiate(): { exports: TurboExports; handle: number } {
  const imports = {
    env: { setjmp: () => 0, longjmp: () => fail("longjmp (a fatal libjpeg error)") },
    wasi_snapshot_preview1: {
      environ_sizes_get: () => 0,
      environ_get: () => fail("environ_get"),
      proc_exit: () => fail("proc_exit"),
      fd_close: () => fail("fd_close"),
      fd_seek: () => fail("fd_seek"),
      fd_write: () => fail("fd_write"),
    },
  };
  const exports = new WebAssembly.Instance(loadModule(), imports)
    .exports as unknown as TurboExports;
  const handle = exports.tjInitDecompress();
  if (handle === 0) throw new Error("libjpeg-turbo: could not allocate a decompressor");
  return { exports, handle };
}

/** Whether the bytes start with a JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a baseline or progressive JPEG (grey, YCbCr) to RGB with libjpeg's default (ISLOW) IDCT. */
export function decodeJpeg(bytes: Uint8Array): RgbImage {
  turbo ??= instantiate();
  const { exports: x, handle } = turbo;
  let src = 0, dst = 0;
  try {
    src = x.malloc(bytes.length + 20);
    const meta = src + bytes.length; // 4 int32s after the input, 4-byte aligned below
    const metaAt = (meta + 3) & ~3;
    new Uint8Array(x.memory.buffer, src, bytes.length).set(bytes);
    if (
      x.tjDecompressHeader3(
        handle,
        src,
        bytes.length,
        metaAt,
        metaAt + 4,
        metaAt + 8,
        metaAt + 12,
      ) !== 0
    ) {
      throw new DecodeError("not a decodable JPEG (bad header)");
    }
    const [width, height] = new Int32Array(x.memory.buffer, metaAt, 2);
    if (width <= 0 || height <= 0) {
      throw new DecodeError(`JPEG header gives size ${width}×${height}`);
    }
    const size = width * height * 3;
    dst = x.malloc(size);
    if (dst === 0) {
      throw new DecodeError(`JPEG of ${width}×${height} does not fit the decoder's memory`);
    }
    if (
      x.tjDecompress2(handle, src, bytes.length, dst, width, width * 3, height, TJPF_RGB, 0) !== 0
    ) {
      // TurboJPEG reports warnings (e.g. premature end of data) this way too; PIL refuses those files.
      throw new DecodeError("corrupt or truncated JPEG data");
    }
    const data = new Uint8Array(size);
    data.set(new Uint8Array(x.memory.buffer, dst, size));
    return { width, height, data };
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    // A fatal libjpeg error unwound through wasm: its heap and stack are now unknown.
    turbo = undefined;
    throw new DecodeError(`corrupt JPEG (libjpeg stopped: ${(err as Error).message})`);
  } finally {
    if (turbo?.exports === x) {
      if (src) x.free(src);
      if (dst) x.free(dst);
    }
  }
}
