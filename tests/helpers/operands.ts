// Runs a GPU computation once per GEMM operand form (kernels/operands.ts), restoring the
// device's form afterwards, so tests can assert that the two forms give the same bits.
import type { Gpu } from "../../src/gpu/device.ts";
import { operandForm, setOperandForm } from "../../src/gpu/operands.ts";
import { assertEquals } from "@std/assert";

/** fn's result with the storage form, then with the texture form. */
export async function inBothForms<T>(gpu: Gpu, fn: () => Promise<T>): Promise<[T, T]> {
  const before = await operandForm(gpu);
  try {
    setOperandForm(gpu, "storage");
    const storage = await fn();
    setOperandForm(gpu, "texture");
    const texture = await fn();
    return [storage, texture];
  } finally {
    setOperandForm(gpu, before);
  }
}

/** Asserts that both forms give byte-identical arrays, naming the case. */
export async function assertSameInBothForms(
  what: string,
  gpu: Gpu,
  fn: () => Promise<Float32Array[]>,
): Promise<void> {
  const [storage, texture] = await inBothForms(gpu, fn);
  storage.forEach((s, i) => {
    const t = texture[i];
    const bad = s.findIndex((v, j) => !Object.is(v, t[j]));
    assertEquals(
      bad,
      -1,
      `${what}, output ${i}: the texture form differs from the storage form at ${bad} ` +
        `(${s[bad]} vs ${t[bad]})`,
    );
  });
}
