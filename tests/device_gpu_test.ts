// The device's kernel plumbing: WGSL generated at run time compiles under its name, and a
// broken one fails with an error naming the kernel and the line, not a file it lacks.
import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { getGpu } from "../src/gpu/device.ts";
import { hasGpu } from "./helpers/compare.ts";

const ignore = !(await hasGpu());

Deno.test({
  name: "Gpu.define: a generated kernel compiles once by name; compile errors name it and the line",
  ignore,
  fn: async () => {
    const gpu = await getGpu();
    const good = `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1) fn main() { y[0] = 7.0; }
`;
    const name = gpu.define("test_generated_ok", () => good);
    assertEquals(name, "test_generated_ok");
    // The first text stays: a second definition under the same name is not compiled.
    gpu.define("test_generated_ok", () => "not WGSL");
    const y = gpu.tensor([1], "y");
    gpu.run([await gpu.dispatch(name, { tensors: [y], groups: [1] })]);
    const [out] = await gpu.read(y);
    assertEquals([...out], [7]);

    const bad = gpu.define(
      "test_generated_bad",
      () => `${good}\nfn broken() -> f32 { return x; }\n`,
    );
    const err = await assertRejects(() => gpu.pipeline(bad), Error);
    assertStringIncludes(err.message, "test_generated_bad (generated):4:");
  },
});
