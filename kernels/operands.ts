// How the GEMM kernels (matmul, the implicit-GEMM convolutions) read their read-only vec4
// operands: from a storage buffer, or from a texture holding the same vec4s. Both forms
// load the same values in the same order, so they give the same bits; they differ only in
// speed. On llvmpipe without AVX-512 a storage load is a per-lane loop that LLVM lowers
// through the stack (about 22 cycles a lane), while a texel fetch is a gather: the
// texture form ran a 512³ matmul 3.8× faster there. src/gpu/operands.ts picks the form.

/** "storage": array<vec4<f32>> bindings; "texture": texture_2d<f32> bindings. */
export type OperandForm = "storage" | "texture";

/**
 * Texels per texture row: vec4 i of an operand is texel (i mod ROW, ⌊i / ROW⌋). 8192 is
 * WebGPU's default maxTextureDimension2D, so a texture holds up to 2^26 vec4s (1 GiB).
 */
export const TEXTURE_ROW = 8192;

/** The declaration of read-only vec4 operand `name` at `binding` of group 0. */
export function operandDecl(form: OperandForm, binding: number, name: string): string {
  return form === "storage"
    ? `@group(0) @binding(${binding}) var<storage, read> ${name}: array<vec4<f32>>;`
    : `@group(0) @binding(${binding}) var ${name}: texture_2d<f32>;`;
}

/** The WGSL expression for vec4 `index` of operand `name`. */
export function operandRead(form: OperandForm, name: string, index: string): string {
  return form === "storage" ? `${name}[${index}]` : `texel(${name}, ${index})`;
}

/** Helper functions a kernel needs for its operand form (none for storage). */
export function operandHelpers(form: OperandForm): string {
  if (form === "storage") return "";
  return `
// vec4 i of a texture operand: rows of ${TEXTURE_ROW} texels (kernels/operands.ts).
fn texel(t: texture_2d<f32>, i: u32) -> vec4<f32> {
  return textureLoad(t, vec2u(i & ${TEXTURE_ROW - 1}u, i >> ${Math.log2(TEXTURE_ROW)}u), 0);
}
`;
}
