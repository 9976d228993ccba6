// How kernels read their read-only operands (the GEMMs' and the direct and depthwise
// convolutions' inputs, batch-norm's, the element-wise kernels'): from a storage buffer, or
// from a read-only storage texture holding the same values. Both forms load the same values in
// the same order, so they give the same bits; they differ only in speed. On llvmpipe without
// AVX-512 a storage load is a per-lane loop that LLVM lowers through the stack (about 22 cycles
// a lane): in a probe of per-lane vec4 loads there, 0.18 Gfloat/s from a storage buffer and
// 1.6–1.9 from a read-only storage texture, and a 512³ matmul ran at 1.5 and 13.9 GFLOP/s.
// src/gpu/operands.ts picks the form.

/** "storage": array<vec4<f32>> or array<f32> bindings; "texture": read-only storage textures. */
export type OperandForm = "storage" | "texture";

/** What one element of an operand is: a vec4 (an rgba32float texel) or a float (r32float). */
export type OperandElement = "vec4" | "f32";

/**
 * Texels per texture row: element i of an operand is texel (i mod ROW, ⌊i / ROW⌋). 8192 is
 * WebGPU's default maxTextureDimension2D, so a texture holds up to 2^26 elements.
 */
export const TEXTURE_ROW = 8192;

/** The declaration of read-only operand `name` at `binding` of group 0. */
export function operandDecl(
  form: OperandForm = "storage",
  binding: number,
  name: string,
  element: OperandElement = "vec4",
): string {
  return form === "storage"
    ? `@group(0) @binding(${binding}) var<storage, read> ${name}: array<${
      element === "vec4" ? "vec4<f32>" : "f32"
    }>;`
    : `@group(0) @binding(${binding}) var ${name}: ${textureType(element)};`;
}

/** The WGSL expression for element `index` of operand `name`. */
export function operandRead(
  form: OperandForm = "storage",
  name: string,
  index: string,
  element: OperandElement = "vec4",
): string {
  if (form === "storage") return `${name}[${index}]`;
  return element === "vec4" ? `texel4(${name}, ${index})` : `texel1(${name}, ${index}).x`;
}

/** The WGSL expression for the element count of operand `name` (a texture's whole rows). */
export function operandLength(
  form: OperandForm = "storage",
  name: string,
  element: OperandElement = "vec4",
): string {
  return form === "storage"
    ? `arrayLength(&${name})`
    : `texels${element === "vec4" ? 4 : 1}(${name})`;
}

/**
 * A read-only storage texture: on llvmpipe its textureLoad skips the sampled path's level
 * and format handling, 1.6× faster per float than a texture_2d in a probe of per-lane loads.
 */
function textureType(element: OperandElement): string {
  return `texture_storage_2d<${element === "vec4" ? "rgba32float" : "r32float"}, read>`;
}

/** Helper functions a kernel needs for its operand form (none for storage). */
export function operandHelpers(form: OperandForm = "storage"): string {
  if (form === "storage") return "";
  return `
// Element i of a texture operand: rows of ${TEXTURE_ROW} texels (kernels/operands.ts).
fn texel4(t: ${textureType("vec4")}, i: u32) -> vec4<f32> {
  return textureLoad(t, vec2u(i & ${TEXTURE_ROW - 1}u, i >> ${Math.log2(TEXTURE_ROW)}u));
}
fn texel1(t: ${textureType("f32")}, i: u32) -> vec4<f32> {
  return textureLoad(t, vec2u(i & ${TEXTURE_ROW - 1}u, i >> ${Math.log2(TEXTURE_ROW)}u));
}

// Texels in a texture operand, its last row's unused tail included (read as zeros).
fn texels4(t: ${textureType("vec4")}) -> u32 {
  let d = textureDimensions(t);
  return d.x * d.y;
}
fn texels1(t: ${textureType("f32")}) -> u32 {
  let d = textureDimensions(t);
  return d.x * d.y;
}
`;
}

/**
 * The texture form of a hand-written kernel: each read-only storage array named in `names`
 * (array<vec4f>, array<vec4<f32>> or array<f32>) becomes a read-only storage texture at the same
 * binding, its element reads `name[i]` become texel fetches and arrayLength(&name) the
 * texture's texel count. Throws when a name is not such an array, so a kernel edit cannot
 * silently leave an operand behind.
 */
export function textureForm(kernel: string, wgsl: string, names: readonly string[]): string {
  let text = wgsl;
  for (const name of names) {
    const decl = new RegExp(
      String
        .raw`(@group\(0\) @binding\(\d+\) )var<storage, read> ${name}: array<(vec4f|vec4<f32>|f32)>;`,
    );
    const m = text.match(decl);
    if (!m) {
      throw new Error(
        `${kernel}: no read-only storage array<vec4f> or array<f32> named ${name} to read as a texture`,
      );
    }
    const element: OperandElement = m[2] === "f32" ? "f32" : "vec4";
    text = text.replace(decl, `${m[1]}var ${name}: ${textureType(element)};`);
    text = text.replaceAll(`arrayLength(&${name})`, operandLength("texture", name, element));
    text = replaceIndexing(text, name, (index) => operandRead("texture", name, index, element));
  }
  return text + operandHelpers("texture");
}

/** Replaces every `name[index]` (brackets balanced inside) with `read(index)`. */
function replaceIndexing(text: string, name: string, read: (index: string) => string): string {
  const start = new RegExp(String.raw`\b${name}\[`, "g");
  let out = "", from = 0;
  for (let m = start.exec(text); m; m = start.exec(text)) {
    let depth = 1, i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === "[") depth++;
      else if (text[i] === "]") depth--;
    }
    out += text.slice(from, m.index) + read(text.slice(m.index + m[0].length, i - 1));
    from = i;
    start.lastIndex = i;
  }
  return out + text.slice(from);
}
