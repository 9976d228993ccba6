import { assertEquals, assertThrows } from "@std/assert";
import { BASE_CONFIG, resolveConfig } from "./config.ts";
import { learningRate } from "./schedule.ts";

Deno.test("flags override the config file, which overrides the base", () => {
  const c = resolveConfig(
    { source: "cfg.json", values: { head: "arcface", "weight-decay": 1e-4, lr: 0.05 } },
    { source: "flags", values: { lr: "0.2", milestones: "2,4" } },
  );
  assertEquals([c.head, c.weight_decay, c.lr, c.milestones], ["arcface", 1e-4, 0.2, [2, 4]]);
  assertEquals(c.backbone, BASE_CONFIG.backbone);
});

Deno.test("unknown keys and bad values are rejected with the value quoted", () => {
  assertThrows(
    () => resolveConfig({ source: "cfg.json", values: { learning_rate: 1 } }),
    Error,
    "unknown setting 'learning_rate'",
  );
  assertThrows(
    () => resolveConfig({ source: "flags", values: { batch: "many" } }),
    Error,
    'batch = "many"',
  );
  assertThrows(
    () => resolveConfig({ source: "flags", values: { momentum: 1.5 } }),
    Error,
    "momentum",
  );
  assertThrows(
    () => resolveConfig({ source: "flags", values: { batch: 64, grad_accum: 3 } }),
    Error,
    "grad_accum must be a positive integer dividing the batch (64), got 3",
  );
  assertThrows(
    () => resolveConfig({ source: "flags", values: { optimizer: "adam" } }),
    Error,
    "optimizer must be one of sgd|adamw, got adam",
  );
  assertThrows(
    () => resolveConfig({ source: "flags", values: { val: "v.arrow" } }),
    Error,
    "--val and --val-pairs",
  );
});

Deno.test("schedules: warm-up, cosine ends near 0, step decays at milestones, poly", () => {
  const base = resolveConfig({ source: "t", values: { lr: 0.1, warmup_steps: 10 } });
  assertEquals(learningRate(base, 0, 100, 10), 0.1 * 0.01);
  assertEquals(learningRate(base, 10, 100, 10), 0.1);
  assertEquals(Math.abs(learningRate(base, 100, 100, 10)) < 1e-12, true);
  const step = resolveConfig({
    source: "t",
    values: { schedule: "step", milestones: [2, 4], gamma: 0.1 },
  });
  assertEquals(learningRate(step, 19, 100, 10), 0.1);
  assertEquals(learningRate(step, 20, 100, 10), 0.1 * 0.1);
  assertEquals(learningRate(step, 45, 100, 10), 0.1 * 0.1 * 0.1);
  const poly = resolveConfig({ source: "t", values: { schedule: "poly", power: 2 } });
  assertEquals(learningRate(poly, 50, 100, 10), 0.1 * 0.25);
});
