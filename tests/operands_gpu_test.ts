// Texture operands on the device: every reader of a tensor shares one texture and copy, and
// a command list refills that texture only after a kernel has written the tensor.
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { type Dispatch, getGpu, withoutRepeatedCopies } from "../src/gpu/device.ts";
import { textureOperand } from "../src/gpu/operands.ts";
import { textureForm } from "../kernels/operands.ts";
import { hasGpu } from "./helpers/compare.ts";

const ignore = !(await hasGpu());

const READER = `@group(0) @binding(0) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) g: vec3u) {
  y[g.x] = x4[g.x] * 2.0;
}
`;
// Attributes in the other order: the device still finds what the kernel writes.
const WRITER = `@binding(0) @group(0) var<storage, read_write> x: array<vec4<f32>>;
@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) g: vec3u) {
  x[g.x] = x[g.x] + vec4(1.0);
}
`;

Deno.test({
  name:
    "texture operands: readers share a tensor's texture; a list copies it again only after a write",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    const reader = gpu.define("test_texture_reader", () => textureForm("reader", READER, ["x4"]));
    const writer = gpu.define("test_texture_writer", () => WRITER);
    const x = gpu.tensor([8], "x", Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const tex = textureOperand(gpu, x, "first reader")!;
    assertStrictEquals(textureOperand(gpu, x, "second reader"), tex);
    assert(textureOperand(gpu, x, "as floats", "f32") !== tex, "f32 texels: a texture of its own");

    const ys = [0, 1, 2].map((i) => gpu.tensor([8], `y${i}`));
    const read = (i: number) => gpu.dispatch(reader, { tensors: [tex.view, ys[i]], groups: [2] });
    const r0 = await read(0), r1 = await read(1), r2 = await read(2);
    const w = await gpu.dispatch(writer, { tensors: [x], groups: [2] });
    // The kernels know what they write: the read_write bindings, not the texture.
    assertEquals(w.writes.map((r) => [r.buffer, r.offset, r.size]), [[x.buffer, 0, 32]]);
    assertEquals(r0.writes.map((r) => r.buffer), [ys[0].buffer]);

    const list: Dispatch[] = [tex.copy, r0, tex.copy, r1, w, tex.copy, r2];
    const kept = withoutRepeatedCopies(list);
    assertEquals(kept, [tex.copy, r0, r1, w, tex.copy, r2]);

    gpu.run(list);
    const [y0, y1, y2] = await gpu.read(...ys);
    assertEquals([...y0], [2, 4, 6, 8, 10, 12, 14, 16]);
    assertEquals([...y1], [...y0]);
    assertEquals([...y2], [4, 6, 8, 10, 12, 14, 16, 18], "read after the write: refilled");
    for (const t of [x, ...ys]) t.buffer.destroy();
  },
});
