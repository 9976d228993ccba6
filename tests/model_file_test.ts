// Model files: a saved model reloads to identical bytes; a state dict laid out as
// PyTorch's insightface iresnet exports it (keys, order, num_batches_tracked, F32) loads
// without renaming; damaged files fail naming the file and the tensor.
import { assert, assertEquals, assertThrows } from "@std/assert";
import { InputError } from "../src/cli/errors.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  f32Entry,
  i64Entry,
  type TensorEntry,
} from "../src/format/safetensors.ts";
import {
  decodeModel,
  encodeModel,
  INSIGHTFACE_NORMALISATION,
  loadModel,
  type ModelConfig,
  networkOf,
  saveModel,
} from "../src/model/model_file.ts";
import { initParams } from "../src/model/params.ts";

const liteConfig: ModelConfig = {
  backbone: "resnet-lite",
  embedding_dim: 32,
  input_size: 64,
  normalisation: INSIGHTFACE_NORMALISATION,
};

/**
 * The state dict insightface's IResNet has in PyTorch, enumerated independently of our
 * builder: modules in registration order, each BN with weight, bias, running_mean,
 * running_var and num_batches_tracked.
 */
function pytorchIresnetStateDict(blocks: number[], size: number, D: number): [string, number[]][] {
  const out: [string, number[]][] = [];
  const bn = (m: string, c: number) => {
    for (const k of ["weight", "bias", "running_mean", "running_var"]) out.push([`${m}.${k}`, [c]]);
    out.push([`${m}.num_batches_tracked`, []]);
  };
  out.push(["conv1.weight", [64, 3, 3, 3]]);
  bn("bn1", 64);
  out.push(["prelu.weight", [64]]);
  let inplanes = 64, side = size;
  [64, 128, 256, 512].forEach((planes, i) => {
    for (let j = 0; j < blocks[i]; j++) {
      const p = `layer${i + 1}.${j}`;
      bn(`${p}.bn1`, inplanes);
      out.push([`${p}.conv1.weight`, [planes, inplanes, 3, 3]]);
      bn(`${p}.bn2`, planes);
      out.push([`${p}.prelu.weight`, [planes]]);
      out.push([`${p}.conv2.weight`, [planes, planes, 3, 3]]);
      bn(`${p}.bn3`, planes);
      if (j === 0) {
        out.push([`${p}.downsample.0.weight`, [planes, inplanes, 1, 1]]);
        bn(`${p}.downsample.1`, planes);
      }
      inplanes = planes;
    }
    side = Math.ceil(side / 2);
  });
  bn("bn2", 512);
  out.push(["fc.weight", [D, 512 * side * side]], ["fc.bias", [D]]);
  bn("features", D);
  return out;
}

Deno.test("model file: saved models reload to identical bytes and values", async () => {
  const net = networkOf(liteConfig);
  const state = initParams(net, 3);
  const bytes = encodeModel(liteConfig, state, 17);
  const content = decodeSafetensors(bytes, "mem");
  assertEquals(JSON.parse(content.metadata["p2sgrad.config"]), liteConfig);
  assertEquals(content.metadata["p2sgrad.version"], "1");
  const loaded = decodeModel(content, "mem");
  assertEquals(loaded.batchesTracked, 17);
  assertEquals(loaded.config, liteConfig);
  for (const p of net.params) assertEquals(loaded.state.get(p.name), state.get(p.name), p.name);
  assertEquals(
    encodeModel(loaded.config, loaded.state, loaded.batchesTracked),
    bytes,
    "reload → identical bytes",
  );

  const dir = await Deno.makeTempDir({ prefix: "p2sgrad-model-" });
  try {
    const path = `${dir}/model.safetensors`;
    await saveModel(path, liteConfig, state, 17);
    assertEquals(await Deno.readFile(path), bytes);
    const again = await loadModel(path);
    await saveModel(`${dir}/again.safetensors`, again.config, again.state, again.batchesTracked);
    assertEquals(await Deno.readFile(`${dir}/again.safetensors`), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model file: an insightface iresnet state dict exported from PyTorch loads without renaming", () => {
  const D = 64, size = 64;
  const keys = pytorchIresnetStateDict([2, 2, 2, 2], size, D);
  const tensors = new Map<string, TensorEntry>();
  keys.forEach(([name, shape], k) => {
    if (name.endsWith("num_batches_tracked")) {
      tensors.set(name, i64Entry(shape, [1234n]));
    } else {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = Math.sin(k * 7 + i * 0.001);
      tensors.set(name, f32Entry(shape, v));
    }
  });
  // safetensors.torch.save_file writes {"format": "pt"} and nothing of ours.
  const content = decodeSafetensors(
    encodeSafetensors(tensors, { format: "pt" }),
    "r18.safetensors",
  );
  const loaded = decodeModel(content, "r18.safetensors", {
    backbone: "iresnet18",
    input_size: size,
  });
  assertEquals(loaded.config.embedding_dim, D, "embedding dimension read from the file");
  assertEquals(loaded.batchesTracked, 1234);
  assertEquals(loaded.state.size, keys.filter(([n]) => !n.endsWith("num_batches_tracked")).length);
  const fc = loaded.state.get("fc.weight")!;
  const fcIndex = keys.findIndex(([n]) => n === "fc.weight");
  assertEquals(fc[5], Math.fround(Math.sin(fcIndex * 7 + 5 * 0.001)));
  // Our file of the same weights holds exactly PyTorch's keys, so it loads there (strict).
  const ours = decodeSafetensors(encodeModel(loaded.config, loaded.state, 1234), "ours");
  assertEquals([...ours.tensors.keys()].sort(), keys.map(([n]) => n).sort());
  for (const [name, shape] of keys) assertEquals(ours.tensors.get(name)!.shape, shape, name);

  // At the wrong input size the fc shape gives it away, with a hint.
  const err = assertThrows(
    () => decodeModel(content, "r18.safetensors", { backbone: "iresnet18", input_size: 112 }),
    InputError,
  );
  assert(
    err.message.includes("r18.safetensors: tensor 'fc.weight' has shape [64, 8192]"),
    err.message,
  );
  assert(err.message.includes("--input-size"));
  assertThrows(
    () => decodeModel(content, "r18.safetensors"),
    InputError,
    "name it (e.g. --backbone iresnet50)",
  );
});

Deno.test("model file: missing, misshapen, mistyped and unexpected tensors are named", () => {
  const net = networkOf(liteConfig);
  const good = decodeSafetensors(encodeModel(liteConfig, initParams(net, 1)), "m.safetensors");
  const variant = (edit: (t: Map<string, TensorEntry>) => void, meta = good.metadata) => {
    const t = new Map(good.tensors);
    edit(t);
    return decodeSafetensors(encodeSafetensors(t, meta), "m.safetensors");
  };
  const cases: [string, ReturnType<typeof variant>, string][] = [
    [
      "missing",
      variant((t) => t.delete("layer2.0.conv1.weight")),
      "tensor 'layer2.0.conv1.weight' is missing",
    ],
    [
      "shape",
      variant((t) => t.set("bn1.weight", f32Entry([3], [1, 1, 1]))),
      "tensor 'bn1.weight' has shape [3]",
    ],
    [
      "dtype",
      variant((t) => t.set("prelu.weight", i64Entry([16], Array(16).fill(0n)))),
      "tensor 'prelu.weight' has dtype I64",
    ],
    ["unexpected", variant((t) => t.set("head.weight", f32Entry([2], [0, 0]))), "head.weight"],
    ["version", variant(() => {}, { ...good.metadata, "p2sgrad.version": "9" }), 'version "9"'],
    ["config", variant(() => {}, { ...good.metadata, "p2sgrad.config": "{}" }), "lacks backbone"],
  ];
  for (const [name, content, expect] of cases) {
    const err = assertThrows(
      () => decodeModel(content, "m.safetensors"),
      InputError,
      undefined,
      name,
    );
    assert(
      err.message.startsWith("m.safetensors: ") && err.message.includes(expect),
      `${name}: ${err.message}`,
    );
  }
  // Half-precision weights are widened, not rejected.
  const half = variant((t) =>
    t.set("prelu.weight", { dtype: "F16", shape: [16], data: new Uint8Array(32).fill(0) })
  );
  assertEquals(decodeModel(half, "m.safetensors").state.get("prelu.weight"), new Float32Array(16));
});
