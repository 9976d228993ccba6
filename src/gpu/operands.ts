// The operand form of the kernels' read-only inputs on this device (kernels/operands.ts):
// measured once per device, since which form is faster depends on the adapter and the host
// CPU, and harmless to choose either way, since both give the same bits. In the texture
// form each tensor a kernel reads gets a texture (shared by all its readers) and a copy into
// it, placed just before each reader; a command list keeps only the copies that follow a
// write to the tensor (device.ts withoutRepeatedCopies).
import type { Dispatch, Gpu, Tensor, TextureCopy } from "./device.ts";
import {
  operandDecl,
  type OperandElement,
  type OperandForm,
  operandHelpers,
  operandRead,
  TEXTURE_ROW,
  textureForm,
} from "../../kernels/operands.ts";
import { placeholder } from "./ops/grid.ts";

export type { OperandElement, OperandForm } from "../../kernels/operands.ts";

const forms = new WeakMap<Gpu, Promise<OperandForm>>();

/**
 * The form kernels read their inputs in on this device: P2SGRAD_OPERANDS=storage|texture when set,
 * otherwise the texture form when a probe of per-lane loads runs it at least 1.3× faster.
 */
export function operandForm(gpu: Gpu): Promise<OperandForm> {
  let form = forms.get(gpu);
  if (!form) {
    const asked = requestedForm();
    form = asked ? Promise.resolve(asked) : probeForm(gpu);
    forms.set(gpu, form);
  }
  return form;
}

/** Fixes the form for ops built from now on (tests and benchmarks compare the two). */
export function setOperandForm(gpu: Gpu, form: OperandForm): void {
  forms.set(gpu, Promise.resolve(form));
}

function requestedForm(): OperandForm | null {
  let v: string | undefined;
  try {
    v = Deno.env.get("P2SGRAD_OPERANDS");
  } catch {
    return null; // no --allow-env: measure
  }
  if (v === undefined || v === "" || v === "auto") return null;
  if (v === "storage" || v === "texture") return v;
  throw new Error(`P2SGRAD_OPERANDS=${v}: expected storage, texture or auto`);
}

/** Lanes × loads of the probe: about 30 ms for the storage form where it is slow. */
const PROBE_LANES = 1 << 13, PROBE_LOADS = 64, PROBE_VEC4S = 4096, PROBE_REPEATS = 4;

function probeWgsl(form: OperandForm): string {
  const loads = Array.from(
    { length: PROBE_LOADS },
    (_, k) => `  acc += ${operandRead(form, "s", `(l * 7u + ${k * 13}u) & ${PROBE_VEC4S - 1}u`)};`,
  );
  return `// Per-lane vec4 loads (src/gpu/operands.ts): which operand form loads faster here.
${operandDecl(form, 0, "s")}
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
${operandHelpers(form)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let l = g.x;
  var acc = vec4(0.0);
${loads.join("\n")}
  o[l] = acc.x + acc.y + acc.z + acc.w;
}
`;
}

async function probeForm(gpu: Gpu): Promise<OperandForm> {
  const src = gpu.tensor([PROBE_VEC4S * 4], "operand probe");
  const out = gpu.tensor([PROBE_LANES], "operand probe out");
  const tex = textureOperand(gpu, src, "operand probe");
  if (!tex) return "storage";
  const lists = await Promise.all((["storage", "texture"] as const).map(async (form) => {
    const d = await gpu.dispatch(gpu.define(`operand_probe.${form}`, () => probeWgsl(form)), {
      tensors: [form === "storage" ? src : tex.view, out],
      groups: [PROBE_LANES / 64],
    });
    return Array(PROBE_REPEATS).fill(d);
  }));
  gpu.run([tex.copy]);
  const best = [Infinity, Infinity];
  // Best of 5 alternating rounds: a shared host's speed changes by ⅓ within minutes. A
  // reading near the threshold gets up to 10 more (2026-12-03's Intel host read 1.56–2.43 in
  // 15 runs, yet one training run there chose storage: a slow spell over all 5 texture rounds).
  const near = () => best[0] < 1.6 * best[1] && best[1] < 1.6 * best[0];
  for (let round = 0; round < 5 || (round < 15 && near()); round++) {
    for (const [i, list] of lists.entries()) {
      const t0 = performance.now();
      gpu.run(list);
      await gpu.sync();
      best[i] = Math.min(best[i], performance.now() - t0);
    }
  }
  tex.copy.copy.texture.destroy();
  src.buffer.destroy();
  out.buffer.destroy();
  // 1.3: on 2026-12-02's Intel host the probe read 1.45–1.9 where a training step ran 1.45×
  // faster with textures (their copies included); at 1.5 it chose storage in 2 of 14 runs.
  return best[0] >= 1.3 * best[1] ? "texture" : "storage";
}

/** Each tensor view's texture and copy, by its buffer, then offset, length and element. */
const textures = new WeakMap<GPUBuffer, Map<string, { view: GPUTextureView; copy: TextureCopy }>>();

/**
 * A texture holding the tensor's whole vec4s (or its floats) and the copy that fills it
 * (replay the copy each time before the kernel reads it), or null when the device's
 * textures are too small. Every reader of one tensor view gets the same texture and copy:
 * one texture per tensor, and a copy the command list keeps only after a write to the
 * tensor (device.ts withoutRepeatedCopies).
 */
export function textureOperand(
  gpu: Gpu,
  t: Tensor,
  label: string,
  element: OperandElement = "vec4",
): { view: GPUTextureView; copy: TextureCopy } | null {
  const texelBytes = element === "vec4" ? 16 : 4;
  const texels = Math.floor(t.bytes / texelBytes);
  const rows = Math.ceil(texels / TEXTURE_ROW);
  if (texels === 0 || rows > gpu.limits.maxTextureDimension2D) return null;
  let views = textures.get(t.buffer);
  if (!views) textures.set(t.buffer, views = new Map());
  const key = `${t.offset}:${texels}:${element}`;
  let operand = views.get(key);
  if (!operand) {
    const name = t.label || label;
    const texture = gpu.device.createTexture({
      label: `${name} (texture)`,
      size: [Math.min(texels, TEXTURE_ROW), rows],
      format: element === "vec4" ? "rgba32float" : "r32float",
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
    });
    operand = {
      view: texture.createView(),
      copy: {
        label: `${name}: copy to texture`,
        copy: { buffer: t.buffer, offset: t.offset, texels, texelBytes, texture },
      },
    };
    views.set(key, operand);
  }
  return operand;
}

/** The tensor's whole vec4s, bound as array<vec4<f32>> (a second read-only view of it). */
export function vec4View(t: Tensor): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset, size: Math.max(16, Math.floor(t.bytes / 16) * 16) };
}

const placeholderTextures = new WeakMap<Gpu, GPUTextureView>();

/**
 * The bindings of a kernel's read-only operands in the device's form (null: an operand the
 * kernel variant does not read, bound to a placeholder), and the copies to run first. Each
 * operand is read as vec4s unless `elements` says f32. Falls back to the storage form when
 * an operand does not fit a texture.
 */
export async function readOperands(
  gpu: Gpu,
  operands: readonly (Tensor | null)[],
  label: string,
  elements: readonly OperandElement[] = [],
): Promise<{
  form: OperandForm;
  bindings: (GPUBufferBinding | GPUTextureView)[];
  /** Every copy, in operand order. */
  copies: TextureCopy[];
  /** Operand i's copy, for lists where an operand is written between two of its readers. */
  copyOf: (TextureCopy | undefined)[];
}> {
  const element = (i: number) => elements[i] ?? "vec4";
  if (await operandForm(gpu) === "texture") {
    const held = operands.map((t, i) =>
      t && textureOperand(gpu, t, `${label} operand ${i}`, element(i))
    );
    if (held.every((x, i) => x || !operands[i])) {
      return {
        form: "texture",
        bindings: held.map((x) => x?.view ?? placeholderTexture(gpu)),
        copies: held.flatMap((x) => x ? [x.copy] : []),
        copyOf: held.map((x) => x?.copy),
      };
    }
    // The ones that fit stay cached for other readers of those tensors.
  }
  return {
    form: "storage",
    bindings: operands.map((t, i) =>
      !t ? placeholder(gpu).binding : element(i) === "vec4" ? vec4View(t) : t.binding
    ),
    copies: [],
    copyOf: [],
  };
}

/**
 * The name to dispatch hand-written kernels/<kernel>.wgsl by in `form`: itself, or its
 * texture form with the arrays in `names` read as textures (kernels/operands.ts textureForm).
 */
export function kernelInForm(
  gpu: Gpu,
  kernel: string,
  form: OperandForm,
  names: readonly string[],
): string {
  if (form === "storage") return kernel;
  // The names are part of the key: define() keeps the first text registered under a name.
  return gpu.define(
    `${kernel}.texture(${names.join(",")})`,
    () => textureForm(kernel, gpu.source(kernel), names),
  );
}

/**
 * The name to dispatch generated kernel `kernel` by in `form`: its committed
 * kernels/<kernel>.wgsl (the storage form), or its texture form, generated once by `text`.
 */
export function generatedInForm(
  gpu: Gpu,
  kernel: string,
  form: OperandForm,
  text: (form: OperandForm) => string,
): string {
  return form === "storage" ? kernel : gpu.define(`${kernel}.texture`, () => text(form));
}

/**
 * The name to dispatch a kernel generated at run time by `text` (registered as `kernel`) in
 * `form`: itself, or its texture form with the arrays in `names` read as textures.
 */
export function definedInForm(
  gpu: Gpu,
  kernel: string,
  form: OperandForm,
  text: () => string,
  names: readonly string[],
): string {
  const plain = gpu.define(kernel, text);
  return form === "storage" ? plain : kernelInForm(gpu, plain, form, names);
}

function placeholderTexture(gpu: Gpu): GPUTextureView {
  let v = placeholderTextures.get(gpu);
  if (!v) {
    v = gpu.device.createTexture({
      label: "unused (texture)",
      size: [1, 1],
      format: "rgba32float",
      usage: GPUTextureUsage.STORAGE_BINDING,
    }).createView();
    placeholderTextures.set(gpu, v);
  }
  return v;
}

/** A tensor a hand-written kernel reads through the arrays `names` (its vec4 and f32 twins). */
export interface Read {
  read: Tensor;
  element: OperandElement;
  names: readonly string[];
}

/**
 * gpu.dispatch of hand-written kernels/<kernel>.wgsl with its `Read` tensors bound in the
 * device's operand form: the texture copies, then the dispatch.
 */
export async function dispatchReading(
  gpu: Gpu,
  kernel: string,
  opts: Omit<Parameters<Gpu["dispatch"]>[1], "tensors"> & { tensors: (Tensor | Read)[] },
): Promise<Dispatch[]> {
  const reads = opts.tensors.filter((t): t is Read => "read" in t);
  const ops = await readOperands(
    gpu,
    reads.map((r) => r.read),
    `${kernel}${opts.label ? ` (${opts.label})` : ""}`,
    reads.map((r) => r.element),
  );
  const names = reads.flatMap((r) => r.names);
  const tensors = opts.tensors.map((t) => "read" in t ? ops.bindings[reads.indexOf(t)] : t);
  const d = await gpu.dispatch(kernelInForm(gpu, kernel, ops.form, names), { ...opts, tensors });
  return [...ops.copies, d];
}
