// What one finished arm leaves behind (REPORT_DIR/arms/<id>/result.json): the evaluation
// figures, the training diagnostics and curve, the time it took and the exact commands.
import type { Arm } from "./arms.ts";

/** One point of an arm's training curve (from its train.log). */
export interface CurvePoint {
  step: number;
  loss: number | null;
  theta_y_deg: number | null;
  /** Validation pairs accuracy, on the steps where validation ran. */
  val_acc?: number;
}

export interface ArmResult {
  arm: Arm;
  /** Fingerprint of the shared settings (data, budget); a result only counts for the same. */
  settings_key: string;
  /** ok: trained and evaluated; diverged: training stopped on a non-finite loss or gradient. */
  status: "ok" | "diverged";
  /** Why a diverged arm stopped (train's message). */
  error?: string;
  /** Pairs accuracy, k-fold mean and std (null when diverged). */
  accuracy: { mean: number; std: number } | null;
  auc: number | null;
  eer: number | null;
  /** TAR at FAR targets ("1e-1", "1e-2", "1e-3"). */
  tar_at_far: Record<string, number>;
  /** Last logged training figures. */
  final: {
    step: number;
    loss: number | null;
    theta_y_deg: number | null;
    cos_nontarget: number | null;
  } | null;
  steps: number;
  /** Wall-clock seconds of training (all sessions) and of embedding + evaluation. */
  train_seconds: number;
  eval_seconds: number;
  /** Training images per second over the whole run. */
  img_per_s: number | null;
  adapter: string | null;
  curve: CurvePoint[];
  /** The stage command lines that produced it, in order. */
  commands: string[];
  finished_at: string;
}

/** Checks the shape of a parsed result.json (a hand-edited or foreign file fails loudly). */
export function isArmResult(v: unknown): v is ArmResult {
  const r = v as ArmResult;
  return typeof r === "object" && r !== null && typeof r.arm?.id === "string" &&
    typeof r.settings_key === "string" && (r.status === "ok" || r.status === "diverged") &&
    Array.isArray(r.curve) && Array.isArray(r.commands);
}
