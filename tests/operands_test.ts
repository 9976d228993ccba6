// The texture form of hand-written kernels (kernels/operands.ts textureForm): declarations,
// nested indexing, element types, arrayLength, and a clear error for a missing operand; the
// P2SGRAD_OPERANDS override.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { textureForm } from "../kernels/operands.ts";
import { operandForm } from "../src/gpu/operands.ts";
import type { Gpu } from "../src/gpu/device.ts";

const kernel = `@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> i1: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
fn main() {
  o[0] = a4[u32(i1[2]) + arrayLength(&a4)].y + a4b[0] + i1[a4[1].x];
}`;

Deno.test("textureForm: named read-only arrays become texture fetches, others stay", () => {
  const text = textureForm("k", kernel, ["a4", "i1"]);
  assertStringIncludes(
    text,
    "@group(0) @binding(1) var a4: texture_storage_2d<rgba32float, read>;",
  );
  assertStringIncludes(text, "@group(0) @binding(2) var i1: texture_storage_2d<r32float, read>;");
  assertStringIncludes(text, "var<storage, read_write> o: array<f32>;");
  assertStringIncludes(
    text,
    "o[0] = texel4(a4, u32(texel1(i1, 2).x) + texels4(a4)).y + a4b[0] + texel1(i1, texel4(a4, 1).x).x;",
  );
  assert(text.includes("fn texel4(") && text.includes("fn texels1("));
});

Deno.test("textureForm: an operand that is not a read-only array is refused by name", () => {
  assertThrows(() => textureForm("k", kernel, ["o"]), Error, "k: no read-only storage");
  assertThrows(() => textureForm("k", kernel, ["missing"]), Error, "named missing");
});

Deno.test("P2SGRAD_OPERANDS picks the form without a probe, and a wrong value is refused", async () => {
  const before = Deno.env.get("P2SGRAD_OPERANDS");
  try {
    // Stand-in devices: a set form never touches the GPU.
    Deno.env.set("P2SGRAD_OPERANDS", "storage");
    assertEquals(await operandForm({} as Gpu), "storage");
    Deno.env.set("P2SGRAD_OPERANDS", "texture");
    assertEquals(await operandForm({} as Gpu), "texture");
    Deno.env.set("P2SGRAD_OPERANDS", "textures");
    assertThrows(
      () => operandForm({} as Gpu),
      Error,
      "P2SGRAD_OPERANDS=textures: expected storage, texture or auto",
    );
  } finally {
    if (before === undefined) Deno.env.delete("P2SGRAD_OPERANDS");
    else Deno.env.set("P2SGRAD_OPERANDS", before);
  }
});
