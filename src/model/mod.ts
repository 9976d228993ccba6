/**
 * The model API: backbones on the GPU for training and inference, and their files.
 *
 * ```ts
 * const gpu = await getGpu();
 * const config: ModelConfig = { backbone: "resnet-lite", embedding_dim: 512, input_size: 64,
 *   normalisation: INSIGHTFACE_NORMALISATION };
 * const model = await buildModel(gpu, config, { batch: 64, training: true, seed });
 * model.loadState(initParams(model.net, seed));           // or (await loadModel(path)).state
 *
 * // each step (one submit):
 * faceToInput(pixels, 64, config.normalisation, host, n); // per image, host = Float32Array(model.input.size)
 * gpu.write(model.input, host);
 * model.setStep(step);                                   // dropout masks (when dropout > 0)
 * gpu.run([...model.forward, ...headForward, ...headBackward(model.dEmbedding), ...model.backward, ...sgd]);
 * ```
 *
 * - `model.embedding` [N, D] is the output (before L2 normalisation); the head reads it
 *   and writes dL/d(embedding) into `model.dEmbedding`; `backward` then fills `model.grads`.
 * - `model.params` holds the parameters and `model.grads` their gradients in the same
 *   layout: flat chunk tensors (`.chunks`, several only when the arena exceeds the
 *   device's binding limit) and `ranges` (chunk, offset, size, decay) for the optimizer
 *   (`arenaGroups` in src/train/optimizer.ts): decay applies to conv and linear weights,
 *   never to BN, PReLU or biases; frozen weights (iresnet's `features.weight`) keep a zero
 *   gradient, so SGD leaves them as they are. Running statistics live in `model.fixed`.
 * - Every gradient is overwritten by `backward` (no zeroing needed); BN running
 *   statistics update in place during a training `forward`.
 * - An inference model for validation or embedding shares the parameters of the
 *   training one: `buildModel(gpu, config, { batch, training: false, shareParams: model })`.
 * - `model.readState()` returns the state dict (parameters and running statistics under
 *   PyTorch names) for `saveModel(path, config, state, steps)`.
 * - `maxBatch(gpu, config)` is the largest batch whose activations fit one storage
 *   binding (llvmpipe: 128 MiB; iresnet at 112 px: 41); bigger batches are refused.
 * - `model.schedule` keeps each layer's dispatches apart (phase, kind, layer) for
 *   benchmarks; `model.destroy()` frees the buffers.
 */
import type { Gpu } from "../gpu/device.ts";
import { convScratchFloatsPerImage } from "../gpu/ops/conv2d.ts";
import { type CompiledGraph, compileGraph } from "./graph.ts";
import { gpuKit } from "./gpu_kit.ts";
import { type ModelConfig, networkOf } from "./model_file.ts";
import type { StateDict } from "./params.ts";

export interface ModelOptions {
  batch: number;
  /** Training: BN batch statistics, dropout, the backward pass and gradients. */
  training: boolean;
  /** Seed of the dropout masks. */
  seed?: number;
  shareParams?: Model;
  /** Cap on one tensor's bytes below the device limit (tests use it). */
  maxBindingBytes?: number;
}

export interface Model extends CompiledGraph {
  config: ModelConfig;
  /** Writes the step counter the dropout kernels read (queued before the next submit). */
  setStep(step: number): void;
  /** Uploads a state dict (parameters and running statistics). */
  loadState(state: ReadonlyMap<string, ArrayLike<number>>): void;
  /** Reads parameters and running statistics back under PyTorch names. */
  readState(): Promise<StateDict>;
}

/**
 * The largest batch whose every activation, and every padded copy the convolutions pack,
 * fits one storage binding of this device (the limit that stops iresnet at 112 px above
 * batch 40 on llvmpipe's 128 MiB). Memory beyond that is not checked here.
 */
export function maxBatch(gpu: Gpu, config: ModelConfig): number {
  const net = networkOf(config);
  const floats = [
    ...[...net.activations.values()].map((s) => s.C * s.H * s.W),
    ...net.layers.map((l) => (l.op === "conv2d" ? convScratchFloatsPerImage(l.s) : 0)),
  ];
  const perImage = Math.max(...floats) * 4;
  const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
  return Math.floor(limit / perImage);
}

export async function buildModel(
  gpu: Gpu,
  config: ModelConfig,
  opts: ModelOptions,
): Promise<Model> {
  const net = networkOf(config);
  const graph = await compileGraph(gpu, gpuKit(gpu), net, {
    batch: opts.batch,
    training: opts.training,
    seed: opts.seed,
    maxBindingBytes: opts.maxBindingBytes,
    shareParams: opts.shareParams,
  });
  return {
    ...graph,
    config,
    setStep(step: number) {
      gpu.write(graph.step, new Uint32Array([step >>> 0, 0, 0, 0]));
    },
    loadState(state) {
      graph.params.upload(state);
      graph.fixed.upload(state);
    },
    async readState() {
      const np = graph.params.chunks.length;
      const host = await gpu.read(...graph.params.chunks, ...graph.fixed.chunks);
      const a = graph.params.unpack(host.slice(0, np)), b = graph.fixed.unpack(host.slice(np));
      const out: StateDict = new Map();
      for (const p of net.params) out.set(p.name, (a.get(p.name) ?? b.get(p.name))!);
      return out;
    },
  };
}

export { BACKBONES, buildNetwork, DEFAULT_BACKBONE, getBackbone } from "./backbones.ts";
export { faceToInput } from "./input.ts";
export {
  decodeModel,
  encodeModel,
  INSIGHTFACE_NORMALISATION,
  loadModel,
  type ModelConfig,
  networkOf,
  saveModel,
} from "./model_file.ts";
export { forwardMacs, type Network, parameterCount } from "./network.ts";
export { initParams, type StateDict } from "./params.ts";
