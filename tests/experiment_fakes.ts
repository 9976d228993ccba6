// Made-up arm results for the experiment tests: figures derived from the arm so each arm
// differs, without training anything.
import type { Arm } from "../src/experiment/arms.ts";
import type { ArmResult } from "../src/experiment/result.ts";
import type { ArmExecutor } from "../src/experiment/runner.ts";

/** A deterministic accuracy per arm: heads differ, noise lowers it. */
export function fakeAccuracy(a: Arm): number {
  const base =
    { p2sgrad: 0.9, arcface: 0.88, cosface: 0.87, normface: 0.85, sphereface: 0.8, softmax: 0.75 }[
      a.head
    ];
  return base - 0.3 * a.noise - 0.01 * (a.margin ?? 0) - 0.0001 * (a.scale ?? 0);
}

export function fakePartial(a: Arm): Omit<ArmResult, "arm" | "settings_key" | "finished_at"> {
  const acc = fakeAccuracy(a);
  const diverged = a.head === "sphereface" && a.noise >= 0.4;
  const theta = (deg: number) => (a.head === "softmax" ? null : deg);
  return {
    status: diverged ? "diverged" : "ok",
    ...(diverged ? { error: "step 7 (of 10 run so far): non-finite loss or gradient" } : {}),
    accuracy: diverged ? null : { mean: acc, std: 0.01 },
    auc: diverged ? null : acc + 0.05,
    eer: diverged ? null : 1 - acc,
    tar_at_far: diverged ? {} : { "1e-1": acc, "1e-2": acc - 0.2, "1e-3": acc - 0.4 },
    final: { step: 10, loss: 0.2, theta_y_deg: theta(50), cos_nontarget: 0 },
    steps: 10,
    train_seconds: 12.5,
    eval_seconds: 1.5,
    img_per_s: 40,
    adapter: "fake adapter",
    curve: [
      { step: 5, loss: 0.4, theta_y_deg: theta(70), val_acc: acc - 0.1 },
      { step: 10, loss: 0.2, theta_y_deg: theta(50), val_acc: acc },
    ],
    commands: [`p2sgrad train --out arms/${a.id}/run --head ${a.head}`],
  };
}

export function fakeResult(a: Arm, key = "k"): ArmResult {
  return { arm: a, settings_key: key, ...fakePartial(a), finished_at: "2024-01-01T00:00:00Z" };
}

/** An executor that records the arms it ran and can be told to fail on one. */
export function recordingExecutor(failOn?: string): { execute: ArmExecutor; ran: string[] } {
  const ran: string[] = [];
  const execute: ArmExecutor = (a, dir) => {
    ran.push(a.id);
    if (a.id === failOn) return Promise.reject(new Error(`simulated crash in ${dir}`));
    return Promise.resolve(fakePartial(a));
  };
  return { execute, ran };
}
