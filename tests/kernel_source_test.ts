// The kernel loader's include step: `//! include NAME` lines become kernels/include/NAME.wgsl.
import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { expandIncludes } from "../src/gpu/kernel_source.ts";
import { getGpu } from "../src/gpu/device.ts";
import { hasGpu } from "./helpers/compare.ts";

const snippets: Record<string, string> = {
  consts: "override N: u32 = 1u;\nconst R = 8u;\n",
  nested: "//! include consts\n",
};
const read = (name: string) => {
  if (!(name in snippets)) throw new Error("not found");
  return snippets[name];
};

Deno.test("include lines are replaced by their snippet; other text stays", () => {
  const text =
    "struct P { a: u32 }\n//! include consts\n// include consts (not a directive)\nfn f() {}\n";
  assertEquals(
    expandIncludes("k", text, read),
    "struct P { a: u32 }\noverride N: u32 = 1u;\nconst R = 8u;\n// include consts (not a directive)\nfn f() {}\n",
  );
});

Deno.test("an unreadable or nested snippet names the kernel and line", () => {
  const missing = assertThrows(() => expandIncludes("k", "a\n//! include nope\n", read));
  assertStringIncludes(
    (missing as Error).message,
    "kernel k, line 2: cannot read kernels/include/nope.wgsl",
  );
  const nested = assertThrows(() => expandIncludes("k", "//! include nested\n", read));
  assertStringIncludes(
    (nested as Error).message,
    "kernel k, line 1: kernels/include/nested.wgsl includes another",
  );
});

Deno.test({
  name: "the per-channel kernels load with their shared snippets expanded",
  ignore: !(await hasGpu()),
  async fn() {
    const gpu = await getGpu();
    for (
      const [kernel, helper] of [["batchnorm_forward", "fn firstItem"], [
        "prelu_backward",
        "fn address",
      ]]
    ) {
      const text = gpu.source(kernel);
      assertStringIncludes(text, helper);
      assertEquals(/^\/\/! include /m.test(text), false, kernel);
    }
  },
});
