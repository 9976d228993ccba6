// The whole-network CPU reference against finite differences: for tiny members of each
// backbone family, d(Σ g·embedding)/dθ from referenceBackward equals the central
// difference of referenceForward, for samples of every parameter tensor and the input.
import { assert } from "@std/assert";
import { tinyNetwork } from "../src/model/backbones.ts";
import { perturbedParams } from "../src/model/params.ts";
import { referenceBackward, referenceForward } from "../src/model/reference.ts";
import { randomArray } from "./helpers/compare.ts";

for (const [family, size, dropout] of [["iresnet", 12, 0.25], ["mobilefacenet", 16, 0]] as const) {
  Deno.test(`reference: tiny ${family} backward matches finite differences`, () => {
    const net = tinyNetwork(family, { inputSize: size, embeddingDim: 6, dropout });
    const N = 3;
    const params = perturbedParams(net, 5);
    const input = Float64Array.from(randomArray(N * 3 * size * size, 9));
    const g = Float64Array.from(randomArray(N * 6, 10));
    const opts = { training: true, seed: 4, step: 2 };
    const objective = () => {
      const e = referenceForward(net, params, input, N, opts).embedding;
      let s = 0;
      for (let i = 0; i < e.length; i++) s += g[i] * e[i];
      return s;
    };
    const fwd = referenceForward(net, params, input, N, opts);
    const { grads, dInput } = referenceBackward(net, params, fwd, g, opts);
    const h = 1e-5;
    const check = (
      what: string,
      values: Float64Array,
      analytic: ArrayLike<number>,
      picks: number[],
    ) => {
      for (const i of picks) {
        const v = values[i];
        values[i] = v + h;
        const fp = objective();
        values[i] = v - h;
        const fm = objective();
        values[i] = v;
        const numeric = (fp - fm) / (2 * h);
        const err = Math.abs(numeric - analytic[i]);
        assert(
          err <= 1e-6 + 1e-4 * Math.abs(numeric),
          `${what}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`,
        );
      }
    };
    let checked = 0;
    for (const p of net.params.filter((q) => q.trainable)) {
      const values = params.get(p.name)!;
      const grad = grads.get(p.name);
      if (!grad) throw new Error(`no gradient for ${p.name}`);
      const picks = [0, Math.floor(values.length / 2), values.length - 1];
      check(p.name, values, grad, [...new Set(picks)]);
      checked++;
    }
    assert(!grads.has("features.weight"), "iresnet's frozen features.weight gets no gradient");
    check("input", input, dInput, [0, 17, input.length - 1]);
    assert(checked > 20, `${checked} parameter tensors checked`);
  });
}
