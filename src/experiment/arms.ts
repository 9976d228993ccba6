// The arms of each experiment: which head, with which scale and margin, on which label
// noise. An arm's id names its folder, so the same settings always map to the same folder
// and a rerun finds the arms it already finished.
import { HEAD_NAMES, type HeadName, HEADS, resolveHead } from "../train/heads.ts";
import { UsageError } from "../cli/errors.ts";

export const EXPERIMENTS = ["heads", "noise", "sensitivity"] as const;
export type ExperimentKind = typeof EXPERIMENTS[number];

export interface Arm {
  /** Folder name under REPORT_DIR/arms/, unique within an experiment. */
  id: string;
  head: HeadName;
  /** Scale s given to train (null: the head's default, or none for p2sgrad/softmax). */
  scale: number | null;
  /** Margin m given to train (null: the head's default). */
  margin: number | null;
  /** Fraction of training labels replaced by a wrong one. */
  noise: number;
  /** This head's learning rate when it differs from the shared one (--lr-for), else null. */
  lr: number | null;
}

/** What the arms vary over; every list is taken in the order given. */
export interface ArmPlan {
  heads: HeadName[];
  noise: number[];
  scales: number[];
  arcMargins: number[];
  cosMargins: number[];
  /** Learning rates of particular heads (the others use the shared --lr). */
  lrFor: Partial<Record<HeadName, number>>;
}

export const DEFAULT_PLAN: Readonly<ArmPlan> = Object.freeze({
  heads: [...HEAD_NAMES],
  noise: [0, 0.1, 0.2, 0.4],
  // A grid around insightface's settings (s 64; ArcFace m 0.5, CosFace m 0.35), wide enough
  // to show how far the margin heads move when s and m change.
  scales: [16, 32, 64],
  arcMargins: [0.2, 0.35, 0.5],
  cosMargins: [0.1, 0.25, 0.35],
  lrFor: {},
});

export function armId(a: Omit<Arm, "id">): string {
  let id: string = a.head;
  if (a.scale !== null) id += `-s${a.scale}`;
  if (a.margin !== null) id += `-m${a.margin}`;
  if (a.noise > 0) id += `-noise${a.noise}`;
  if (a.lr !== null) id += `-lr${a.lr}`;
  return id;
}

/** The arms of an experiment, in the order they run. */
export function experimentArms(kind: ExperimentKind, plan: ArmPlan): Arm[] {
  checkPlan(plan);
  const arm = (head: HeadName, scale: number | null, margin: number | null, noise: number) => {
    const a = { head, scale, margin, noise, lr: plan.lrFor[head] ?? null };
    return { id: armId(a), ...a };
  };
  if (kind === "heads") return plan.heads.map((h) => arm(h, null, null, 0));
  if (kind === "noise") {
    return plan.noise.flatMap((p) => plan.heads.map((h) => arm(h, null, null, p)));
  }
  const grid = (head: HeadName, margins: number[]) =>
    plan.scales.flatMap((s) => margins.map((m) => arm(head, s, m, 0)));
  return [
    arm("p2sgrad", null, null, 0),
    ...grid("arcface", plan.arcMargins),
    ...grid("cosface", plan.cosMargins),
  ];
}

function checkPlan(plan: ArmPlan): void {
  const dup = <T>(xs: T[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  for (const h of plan.heads) {
    if (!(HEAD_NAMES as readonly string[]).includes(h)) {
      throw new UsageError(`unknown head '${h}' (known: ${HEAD_NAMES.join(", ")})`);
    }
  }
  for (const [name, xs] of Object.entries(plan)) {
    if (!Array.isArray(xs)) continue;
    if (xs.length === 0) throw new UsageError(`--${kebab(name)} is empty`);
    const d = dup(xs as unknown[]);
    if (d !== undefined) throw new UsageError(`--${kebab(name)} lists ${d} twice`);
  }
  for (const p of plan.noise) {
    if (!(p >= 0 && p < 1)) throw new UsageError(`--noise levels must lie in [0, 1), got ${p}`);
  }
  for (const [h, lr] of Object.entries(plan.lrFor)) {
    if (!(HEAD_NAMES as readonly string[]).includes(h)) {
      throw new UsageError(`--lr-for: unknown head '${h}' (known: ${HEAD_NAMES.join(", ")})`);
    }
    if (!(lr! > 0)) {
      throw new UsageError(`--lr-for ${h}: the learning rate must be positive, got ${lr}`);
    }
  }
  for (const s of plan.scales) {
    if (!(s > 0)) throw new UsageError(`--scales must be positive, got ${s}`);
  }
  for (const m of [...plan.arcMargins, ...plan.cosMargins]) {
    if (!(m >= 0 && m < Math.PI / 2)) {
      throw new UsageError(`margins must lie in [0, π/2), got ${m}`);
    }
  }
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/** The effective scale and margin of an arm (defaults filled in; null where the head has none). */
export function effectiveHyper(a: Arm): { s: number | null; m: number | null } {
  const h = resolveHead(a.head, { scale: a.scale, margin: a.margin });
  const d = HEADS[a.head].defaults;
  return { s: d.s ? h.s : null, m: d.m ? h.m : null };
}

/** "arcface (s 32, m 0.35)", "p2sgrad (lr 1)", "cosface (s 64, m 0.35), noise 0.2". */
export function armLabel(a: Arm, withNoise = true): string {
  const { s, m } = effectiveHyper(a);
  const hyper = [
    s !== null ? `s ${s}` : "",
    m !== null ? `m ${m}` : "",
    a.lr !== null ? `lr ${a.lr}` : "",
  ]
    .filter(Boolean).join(", ");
  return `${a.head}${hyper ? ` (${hyper})` : ""}${
    withNoise && a.noise > 0 ? `, noise ${a.noise}` : ""
  }`;
}
