// The WebGPU device: adapter selection with a helpful message when there is none, a
// pipeline cache keyed by kernel name and constants, buffers, and batched submission.
// Ops build `Dispatch` records once (pipeline + bind group + grid, or a buffer → texture
// copy); a training step then encodes many of them into one command buffer and reads back
// only what it asks.
import { InputError } from "../cli/errors.ts";
import { TEXTURE_ROW } from "../../kernels/operands.ts";
import { expandIncludes } from "./kernel_source.ts";

const KERNEL_DIR = new URL("../../kernels/", import.meta.url);

/** One step of a command list, built once and replayed every step. */
export type Dispatch = KernelDispatch | TextureCopy;

/** A compute dispatch. */
export interface KernelDispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  groups: readonly [number, number, number];
  /** The buffer ranges bound to the kernel's read_write storage variables. */
  writes: readonly BufferRange[];
}

/** A byte range of a buffer. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/**
 * A copy of a tensor into a texture in the kernels' row layout (kernels/operands.ts): its
 * whole vec4s (16-byte texels) or its floats (4-byte texels), placed in a list just before
 * the kernel that reads the texture.
 */
export interface TextureCopy {
  label: string;
  copy: {
    buffer: GPUBuffer;
    offset: number;
    texels: number;
    texelBytes: 4 | 16;
    texture: GPUTexture;
  };
}

/** A view of a GPU buffer holding f32 (or u32) elements; offsets are 256-byte aligned. */
export class Tensor {
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    /** Byte offset into `buffer`. */
    readonly offset = 0,
    readonly label = "",
  ) {}
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get bytes(): number {
    return this.size * 4;
  }
  /** The binding resource for this view (WebGPU needs bindings of at least 4 bytes). */
  get binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.offset, size: Math.max(4, this.bytes) };
  }
}

/**
 * Every tensor buffer may also be bound as a uniform buffer: a small weight read the same by
 * every lane (a 1×1 convolution's, conv2d.ts) is then bound as it is, with no packed copy,
 * where llvmpipe reads it as a gather instead of its storage path's per-lane loop.
 */
export const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM |
  GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Builds a uniform block from typed fields in WGSL order (each field 4 bytes, 16-byte padded). */
export function params(fields: readonly (readonly ["u32" | "i32" | "f32", number])[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(buf);
  fields.forEach(([type, v], i) => {
    if (type === "f32") view.setFloat32(i * 4, v, true);
    else if (type === "i32") view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return buf;
}

export class Gpu {
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #sources = new Map<string, string>();
  readonly #generated = new Set<string>();
  readonly #writable = new Map<string, Set<number>>();
  #firstError: string | null = null;

  constructor(readonly device: GPUDevice, readonly adapterName: string) {
    device.addEventListener("uncapturederror", (e) => {
      const msg = (e as GPUUncapturedErrorEvent).error.message;
      this.#firstError ??= msg;
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /**
   * Registers WGSL generated at run time (by a kernels/*_gen.ts script) under `name`, which
   * must identify the text: later calls with the same name keep the first text.
   */
  define(name: string, text: () => string): string {
    if (!this.#sources.has(name)) {
      this.#sources.set(name, text());
      this.#generated.add(name);
    }
    return name;
  }

  /**
   * The WGSL text of `kernels/<name>.wgsl` (its `//! include` lines expanded), or of a kernel
   * registered with `define`.
   */
  source(name: string): string {
    let text = this.#sources.get(name);
    if (text === undefined) {
      let raw: string;
      try {
        raw = Deno.readTextFileSync(new URL(`${name}.wgsl`, KERNEL_DIR));
      } catch (err) {
        throw new Error(
          `kernel ${name}: cannot read kernels/${name}.wgsl (${(err as Error).message})`,
        );
      }
      text = expandIncludes(
        name,
        raw,
        (snippet) => Deno.readTextFileSync(new URL(`include/${snippet}.wgsl`, KERNEL_DIR)),
      );
      this.#sources.set(name, text);
    }
    return text;
  }

  /**
   * The compiled pipeline of `kernels/<name>.wgsl`, cached by name, entry point and
   * override constants. Compile and validation errors become one error naming the kernel.
   */
  pipeline(
    name: string,
    constants: Record<string, number> = {},
    entry = "main",
  ): Promise<GPUComputePipeline> {
    const key = `${name}:${entry}:${JSON.stringify(constants)}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.#compile(name, constants, entry);
      this.#pipelines.set(key, p);
    }
    return p;
  }

  async #compile(name: string, constants: Record<string, number>, entry: string) {
    const code = this.source(name);
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: name, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    const scoped = await this.device.popErrorScope();
    if (errors.length > 0 || scoped) {
      // Generated kernels have no file: their errors name the kernel and its generated text.
      const file = this.#generated.has(name) ? `${name} (generated)` : `kernels/${name}.wgsl`;
      const where = errors.map((m) => `  ${file}:${m.lineNum}:${m.linePos}: ${m.message}`);
      throw new Error(`kernel ${name} failed to compile:\n${where.join("\n") || scoped?.message}`);
    }
    try {
      return await this.device.createComputePipelineAsync({
        label: name,
        layout: "auto",
        compute: { module, entryPoint: entry, constants },
      });
    } catch (err) {
      throw new Error(
        `kernel ${name} (entry ${entry}, constants ${JSON.stringify(constants)}): ${
          (err as Error).message
        }`,
      );
    }
  }

  /** A storage buffer of `bytes` bytes (rounded up to 4), zero-filled. */
  buffer(bytes: number, label = "", usage = STORAGE_USAGE): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    if (size > this.limits.maxBufferSize || size > this.limits.maxStorageBufferBindingSize) {
      throw new Error(
        `buffer ${label}: ${size} bytes exceeds the device limit ${this.limits.maxStorageBufferBindingSize}`,
      );
    }
    return this.device.createBuffer({ label, size, usage });
  }

  /** A new f32 tensor of `shape`, zero-filled, or filled from `data`. */
  tensor(shape: readonly number[], label = "", data?: ArrayBufferView): Tensor {
    const t = new Tensor(this.buffer(shape.reduce((a, b) => a * b, 1) * 4, label), shape, 0, label);
    if (data) this.write(t, data);
    return t;
  }

  /** Queues a host → device copy (runs before the next submitted commands). */
  write(t: Tensor | GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    const buffer = t instanceof Tensor ? t.buffer : t;
    const base = t instanceof Tensor ? t.offset : 0;
    this.device.queue.writeBuffer(
      buffer,
      base + byteOffset,
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength,
    );
  }

  /** A uniform buffer holding `data` (see `params`). */
  uniform(data: ArrayBuffer, label = ""): GPUBuffer {
    const buf = this.device.createBuffer({
      label,
      size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /**
   * Builds a dispatch: binding 0 is the uniform block (when given), then the tensors in
   * order from binding 1 (or 0 without uniforms).
   */
  async dispatch(
    kernel: string,
    opts: {
      label?: string;
      uniforms?: ArrayBuffer | GPUBuffer;
      tensors: (Tensor | GPUBufferBinding | GPUTextureView)[];
      groups: readonly [number, number?, number?];
      constants?: Record<string, number>;
      entry?: string;
    },
  ): Promise<KernelDispatch> {
    const pipeline = await this.pipeline(kernel, opts.constants, opts.entry);
    const entries: GPUBindGroupEntry[] = [];
    let binding = 0;
    if (opts.uniforms) {
      const buf = opts.uniforms instanceof ArrayBuffer
        ? this.uniform(opts.uniforms, `${kernel}.u`)
        : opts.uniforms;
      entries.push({ binding: binding++, resource: { buffer: buf } });
    }
    for (const t of opts.tensors) {
      entries.push({ binding: binding++, resource: t instanceof Tensor ? t.binding : t });
    }
    const label = opts.label ?? kernel;
    this.device.pushErrorScope("validation");
    const bindGroup = this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    const err = await this.device.popErrorScope();
    if (err) {
      throw new Error(`kernel ${kernel} (${label}): cannot bind its buffers: ${err.message}`);
    }
    const [x, y = 1, z = 1] = opts.groups;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new Error(
        `kernel ${kernel} (${label}): grid ${x}×${y}×${z} exceeds ${max} workgroups per dimension`,
      );
    }
    const writable = this.#writableBindings(kernel);
    const writes = entries.flatMap((e) => {
      if (!writable.has(e.binding) || !("buffer" in e.resource)) return [];
      const b = e.resource as GPUBufferBinding;
      const offset = b.offset ?? 0;
      return [{ buffer: b.buffer, offset, size: b.size ?? b.buffer.size - offset }];
    });
    return { label, pipeline, bindGroup, groups: [x, y, z], writes };
  }

  /** The binding numbers of the kernel's read_write storage variables (group 0). */
  #writableBindings(kernel: string): Set<number> {
    let set = this.#writable.get(kernel);
    if (!set) {
      // The attributes before each read_write storage variable, in any order.
      const decl = /((?:@\w+\s*\([^)]*\)\s*)+)var\s*<\s*storage\s*,\s*read_write\s*>/g;
      set = new Set([...this.source(kernel).matchAll(decl)].map((m) => {
        const binding = /@binding\s*\(\s*(\d+)\s*\)/.exec(m[1]);
        if (!binding) throw new Error(`kernel ${kernel}: a read_write variable without @binding`);
        return Number(binding[1]);
      }));
      this.#writable.set(kernel, set);
    }
    return set;
  }

  /** Encodes the list in order (compute passes split by its copies) and submits it. */
  run(list: readonly Dispatch[], encoder = this.device.createCommandEncoder()): void {
    encodeDispatches(encoder, list);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Copies tensors back to the host with one queue round trip; f32 arrays in order. */
  async read(...tensors: Tensor[]): Promise<Float32Array[]> {
    const total = tensors.reduce((a, t) => a + Math.ceil(t.bytes / 4) * 4, 0);
    const staging = this.device.createBuffer({
      size: Math.max(16, total),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.device.createCommandEncoder();
    let at = 0;
    for (const t of tensors) {
      if (t.bytes > 0) enc.copyBufferToBuffer(t.buffer, t.offset, staging, at, t.bytes);
      at += t.bytes;
    }
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    this.throwIfFailed();
    at = 0;
    return tensors.map((t) => {
      const out = all.slice(at, at + t.size);
      at += t.size;
      return out;
    });
  }

  /** Waits until the queue has finished everything submitted so far. */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  /** Throws the first uncaptured device error, if any happened. */
  throwIfFailed(): void {
    if (this.#firstError) {
      const msg = this.#firstError;
      this.#firstError = null;
      throw new Error(`GPU error: ${msg}`);
    }
  }
}

/**
 * Encodes a list: runs of kernel dispatches as compute passes, copies between them. With
 * `timestamps`, the first pass writes the beginning index and the last pass the end index,
 * so the span covers the list from its first kernel to its last.
 */
export function encodeDispatches(
  encoder: GPUCommandEncoder,
  list: readonly Dispatch[],
  timestamps?: { querySet: GPUQuerySet; begin: number; end: number },
): void {
  const runs: (KernelDispatch[] | TextureCopy)[] = [];
  for (const d of withoutRepeatedCopies(list)) {
    if ("copy" in d) runs.push(d);
    else if (Array.isArray(runs.at(-1))) (runs.at(-1) as KernelDispatch[]).push(d);
    else runs.push([d]);
  }
  const passes = runs.filter((r) => Array.isArray(r)).length;
  let pass = 0;
  for (const run of runs) {
    if (!Array.isArray(run)) {
      encodeTextureCopy(encoder, run.copy);
      continue;
    }
    const timestampWrites = timestamps && (pass === 0 || pass === passes - 1)
      ? {
        querySet: timestamps.querySet,
        beginningOfPassWriteIndex: pass === 0 ? timestamps.begin : undefined,
        endOfPassWriteIndex: pass === passes - 1 ? timestamps.end : undefined,
      }
      : undefined;
    pass++;
    const p = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    for (const d of run) {
      p.setPipeline(d.pipeline);
      p.setBindGroup(0, d.bindGroup);
      p.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
    p.end();
  }
}

/**
 * The list without the copies that would refill a texture with what it already holds: one
 * filled earlier in the list from the same source range, which no kernel has written since.
 * The kernels reading a tensor share its texture (src/gpu/operands.ts), so a tensor read by
 * several kernels is copied once per write, not once per reader.
 */
export function withoutRepeatedCopies(list: readonly Dispatch[]): Dispatch[] {
  type Copy = TextureCopy["copy"];
  const current = new Map<GPUTexture, Copy>();
  const bySource = new Map<GPUBuffer, Set<Copy>>();
  const out: Dispatch[] = [];
  for (const d of list) {
    if ("copy" in d) {
      // textureOperand gives each texture one copy object, so the same object is the same source.
      const c = d.copy, held = current.get(c.texture);
      if (held === c) continue;
      if (held) bySource.get(held.buffer)?.delete(held);
      current.set(c.texture, c);
      let set = bySource.get(c.buffer);
      if (!set) bySource.set(c.buffer, set = new Set());
      set.add(c);
      out.push(d);
      continue;
    }
    for (const w of d.writes) {
      const set = bySource.get(w.buffer);
      if (!set) continue;
      for (const c of set) {
        if (c.offset < w.offset + w.size && w.offset < c.offset + c.texels * c.texelBytes) {
          set.delete(c);
          current.delete(c.texture);
        }
      }
    }
    out.push(d);
  }
  return out;
}

/** Whole rows of TEXTURE_ROW texels, then the partial last row. */
function encodeTextureCopy(encoder: GPUCommandEncoder, c: TextureCopy["copy"]): void {
  const full = Math.floor(c.texels / TEXTURE_ROW), rest = c.texels % TEXTURE_ROW;
  const width = Math.min(c.texels, TEXTURE_ROW);
  const bytesPerRow = TEXTURE_ROW * c.texelBytes;
  if (full > 0) {
    encoder.copyBufferToTexture(
      { buffer: c.buffer, offset: c.offset, bytesPerRow },
      { texture: c.texture },
      [width, full],
    );
  }
  if (rest > 0) {
    encoder.copyBufferToTexture(
      { buffer: c.buffer, offset: c.offset + full * bytesPerRow, bytesPerRow },
      { texture: c.texture, origin: [0, full] },
      [rest, 1],
    );
  }
}

let shared: Promise<Gpu> | null = null;

/** The process-wide GPU (created on first use). */
export function getGpu(): Promise<Gpu> {
  shared ??= openGpu();
  return shared;
}

async function openGpu(): Promise<Gpu> {
  quietMesa();
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new InputError(
      "WebGPU is not available in this Deno build",
      "use Deno 2.x (npx -y deno@2.9.6)",
    );
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new InputError(
      "no WebGPU adapter found",
      "on Linux without a GPU install Mesa's software adapter: `apt-get install -y mesa-vulkan-drivers libvulkan1` " +
        "(Vulkan/lavapipe, fast kernel compiles) or `libegl-mesa0` (GL); DENO_WEBGPU_BACKEND=vulkan|gl picks one",
    );
  }
  const a = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
      maxTextureDimension2D: a.maxTextureDimension2D,
    },
  });
  const info = adapter.info;
  const name = [
    info.description || info.device,
    info.vendor && `vendor ${info.vendor}`,
    backendName(),
  ]
    .filter(Boolean).join(", ");
  return new Gpu(device, name);
}

function backendName(): string {
  try {
    return Deno.env.get("DENO_WEBGPU_BACKEND") ?? "";
  } catch {
    return "";
  }
}

/** Mesa warns on stderr when XDG_RUNTIME_DIR is unset; give it a private folder if allowed. */
function quietMesa(): void {
  try {
    if (
      Deno.permissions.querySync({ name: "env", variable: "XDG_RUNTIME_DIR" }).state !== "granted"
    ) return;
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    const dir = Deno.makeTempDirSync({ prefix: "p2sgrad-xdg-" });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Only a cosmetic warning is at stake.
  }
}
