// The training configuration: every setting with its default and a one-line reason, in
// the spirit of arcface_torch's configs/base.py. `--config FILE` (JSON) overrides these,
// command-line flags override the file; the resolved settings go to RUN_DIR/config.json
// and into the model file's metadata.
import { UsageError } from "../cli/errors.ts";

export const SCHEDULES = ["step", "cosine", "poly"] as const;
export type Schedule = typeof SCHEDULES[number];
export const OPTIMIZERS = ["sgd", "adamw"] as const;
export const CLASS_WEIGHTS = ["learned", "fixed"] as const;

export interface TrainConfig {
  /** Backbone name in the model registry; the small default is sized for a 2-core CPU adapter. */
  backbone: string;
  /** Embedding dimension D (arcface_torch: 512). */
  embedding_dim: number;
  /** Head (gradient) to train with: p2sgrad needs no hyper-parameters. */
  head: string;
  /** Scale s for the heads that have one (null: the head's default). */
  scale: number | null;
  /** Margin m for the heads that have one (null: the head's default). */
  margin: number | null;
  /** ArcFace only: use f' = s (what insightface's implementation effectively back-propagates). */
  arcface_straight_through: boolean;
  /** learned (N(0, 0.01²), updated by the head's gradient) or fixed (a seeded orthonormal frame, never updated); null: the head's (p2sgrad fixed, the others learned). */
  class_weights: typeof CLASS_WEIGHTS[number] | null;
  /** Training length in epochs over the cached stream (used when `steps` is null). */
  epochs: number;
  /** Training length in optimizer steps; overrides `epochs` when set. */
  steps: number | null;
  /** Images per step (arcface_torch: 128 per GPU; 64 suits this CPU adapter). */
  batch: number;
  /**
   * Micro-batches per step: the batch runs as this many equal parts whose gradients are averaged
   * (arcface_torch's gradient_acc, except that `batch` stays the images per step); batch-norm
   * statistics are each part's. For backbones whose whole batch exceeds the adapter's binding limit.
   */
  grad_accum: number;
  /** Peak learning rate for SGD (arcface_torch: 0.1 at batch 128; 0.1 here too). */
  lr: number;
  /** Learning-rate schedule after warm-up: step (×gamma at milestones), cosine, or poly (arcface_torch). */
  schedule: Schedule;
  /** Step schedule: epochs (may be fractional) at which the rate is multiplied by `gamma`; empty: at 50% and 75% of the run. */
  milestones: number[];
  /** Step schedule: factor at each milestone. */
  gamma: number;
  /** Poly schedule: exponent of (1 − t) (arcface_torch: 2). */
  power: number;
  /** Linear warm-up length in steps from lr/100 (arcface_torch: 0 epochs by default). */
  warmup_steps: number;
  /** sgd (SGD with momentum, arcface_torch's default) or adamw (arcface_torch's choice for ViTs: lr 1e-3, weight decay 0.1). */
  optimizer: typeof OPTIMIZERS[number];
  /** SGD momentum, or AdamW's β1 (arcface_torch: 0.9; AdamW's β2 is torch's 0.999, ε 1e-8). */
  momentum: number;
  /** Weight decay on conv/linear/head weights (L2 for SGD, decoupled for AdamW); none on BN, PReLU and biases (arcface_torch: 5e-4). */
  weight_decay: number;
  /** Global gradient-norm clip (null: off; arcface_torch clips the backbone at 5). */
  clip_grad: number | null;
  /** Dropout before the embedding layer (insightface iresnet: 0). */
  dropout: number;
  /** Random horizontal flip of training images (arcface_torch: yes). */
  flip: boolean;
  /** Seed of everything random: init, order, flips, dropout. Same seed, same adapter: same bytes. */
  seed: number;
  /** Steps between log lines in train.log. */
  log_every: number;
  /** Steps between checkpoints (0: only at the end). */
  save_every: number;
  /** Checkpoints kept (oldest removed first). */
  keep_checkpoints: number;
  /** Steps between validation runs when --val is given (0: only at the end). */
  val_every: number;
  /** Faces stream for validation (LFW-style pairs protocol), or null. */
  val: string | null;
  /** Pairs file for validation, or null. */
  val_pairs: string | null;
}

export const BASE_CONFIG: Readonly<TrainConfig> = Object.freeze({
  backbone: "resnet-lite",
  embedding_dim: 512,
  head: "p2sgrad",
  scale: null,
  margin: null,
  arcface_straight_through: false,
  class_weights: null,
  epochs: 10,
  steps: null,
  batch: 64,
  grad_accum: 1,
  lr: 0.1,
  schedule: "cosine",
  milestones: [],
  gamma: 0.1,
  power: 2,
  warmup_steps: 0,
  optimizer: "sgd",
  momentum: 0.9,
  weight_decay: 5e-4,
  clip_grad: null,
  dropout: 0,
  flip: true,
  seed: 0,
  log_every: 10,
  save_every: 0,
  keep_checkpoints: 3,
  val_every: 0,
  val: null,
  val_pairs: null,
});

type Key = keyof TrainConfig;

/**
 * Merges `layers` (the JSON file, then the flags) over the base; accepts kebab-case or
 * snake_case keys, rejects unknown keys and wrongly typed values, quoting them.
 */
export function resolveConfig(
  ...layers: { source: string; values: Record<string, unknown> }[]
): TrainConfig {
  const out: Record<string, unknown> = { ...BASE_CONFIG, milestones: [...BASE_CONFIG.milestones] };
  for (const { source, values } of layers) {
    for (const [rawKey, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const key = rawKey.replaceAll("-", "_") as Key;
      if (!(key in BASE_CONFIG)) {
        throw new UsageError(
          `${source}: unknown setting '${rawKey}' (known: ${Object.keys(BASE_CONFIG).join(", ")})`,
        );
      }
      out[key] = coerce(source, key, value);
    }
  }
  const cfg = out as unknown as TrainConfig;
  validate(cfg);
  return cfg;
}

function coerce(source: string, key: Key, value: unknown): unknown {
  const base = BASE_CONFIG[key];
  const bad = () =>
    new UsageError(
      `${source}: ${key} = ${JSON.stringify(value)} is not a valid ${describeType(key)}`,
    );
  if (key === "milestones") {
    const list = typeof value === "string" ? value.split(",").map(Number) : value;
    if (!Array.isArray(list) || list.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
      throw bad();
    }
    return list;
  }
  if (value === null) {
    if (base === null || key === "steps") return null;
    throw bad();
  }
  if (typeof base === "boolean") {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw bad();
  }
  if (typeof base === "number" || NUMERIC_NULLABLE.has(key)) {
    const v = typeof value === "string" ? Number(value) : value;
    if (typeof v !== "number" || !Number.isFinite(v)) throw bad();
    return v;
  }
  if (typeof value !== "string") throw bad();
  return value;
}

const NUMERIC_NULLABLE = new Set<Key>(["scale", "margin", "steps", "clip_grad"]);

function describeType(key: Key): string {
  if (key === "milestones") return "list of numbers";
  if (NUMERIC_NULLABLE.has(key)) return "number or null";
  const base = BASE_CONFIG[key];
  return base === null ? "string or null" : typeof base;
}

function validate(c: TrainConfig): void {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new UsageError(what);
  };
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  const nonNegInt = (v: number) => Number.isInteger(v) && v >= 0;
  need(posInt(c.embedding_dim), `embedding_dim must be a positive integer, got ${c.embedding_dim}`);
  need(posInt(c.batch), `batch must be a positive integer, got ${c.batch}`);
  need(
    posInt(c.grad_accum) && c.batch % c.grad_accum === 0,
    `grad_accum must be a positive integer dividing the batch (${c.batch}), got ${c.grad_accum}`,
  );
  need(c.epochs > 0, `epochs must be positive, got ${c.epochs}`);
  need(c.steps === null || posInt(c.steps), `steps must be a positive integer, got ${c.steps}`);
  need(c.lr > 0, `lr must be positive, got ${c.lr}`);
  need(
    (SCHEDULES as readonly string[]).includes(c.schedule),
    `schedule must be one of ${SCHEDULES.join("|")}, got ${c.schedule}`,
  );
  need(
    c.milestones.every((m) => m > 0),
    `milestones are positive epoch numbers, got ${c.milestones.join(",")}`,
  );
  need(
    c.class_weights === null || (CLASS_WEIGHTS as readonly string[]).includes(c.class_weights),
    `class_weights must be one of ${CLASS_WEIGHTS.join("|")}, got ${c.class_weights}`,
  );
  need(
    (OPTIMIZERS as readonly string[]).includes(c.optimizer),
    `optimizer must be one of ${OPTIMIZERS.join("|")}, got ${c.optimizer}`,
  );
  need(c.momentum >= 0 && c.momentum < 1, `momentum must be in [0, 1), got ${c.momentum}`);
  need(c.weight_decay >= 0, `weight_decay must be ≥ 0, got ${c.weight_decay}`);
  need(
    c.clip_grad === null || c.clip_grad > 0,
    `clip_grad must be positive or null, got ${c.clip_grad}`,
  );
  need(c.dropout >= 0 && c.dropout < 1, `dropout must be in [0, 1), got ${c.dropout}`);
  need(
    nonNegInt(c.warmup_steps),
    `warmup_steps must be a non-negative integer, got ${c.warmup_steps}`,
  );
  need(posInt(c.log_every), `log_every must be a positive integer, got ${c.log_every}`);
  need(nonNegInt(c.save_every), `save_every must be a non-negative integer, got ${c.save_every}`);
  need(
    posInt(c.keep_checkpoints),
    `keep_checkpoints must be a positive integer, got ${c.keep_checkpoints}`,
  );
  need(nonNegInt(c.val_every), `val_every must be a non-negative integer, got ${c.val_every}`);
  need(
    Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32,
    `seed must be an integer in [0, 2^32), got ${c.seed}`,
  );
  need((c.val === null) === (c.val_pairs === null), "--val and --val-pairs go together");
}
