// Runs an experiment's arms one after another and keeps the books: an arm is finished when
// REPORT_DIR/arms/<id>/result.json exists (written atomically, so a kill leaves either the
// whole file or none), and a rerun skips finished arms. The work of one arm is a function
// passed in, so the bookkeeping is tested without training anything.
import { InputError } from "../cli/errors.ts";
import { writeFileAtomic } from "../format/safetensors.ts";
import { duration } from "../train/run_log.ts";
import type { Arm } from "./arms.ts";
import { type ArmResult, isArmResult } from "./result.ts";

/** Does one arm's work in `armDir` (created, empty or holding an interrupted attempt). */
export type ArmExecutor = (
  arm: Arm,
  armDir: string,
) => Promise<Omit<ArmResult, "arm" | "settings_key" | "finished_at">>;

export function armDir(reportDir: string, arm: Arm): string {
  return `${reportDir}/arms/${arm.id}`;
}

export function resultPath(reportDir: string, arm: Arm): string {
  return `${armDir(reportDir, arm)}/result.json`;
}

/** sha256 of the canonical JSON of `settings` (keys sorted), hex. */
export async function settingsKey(settings: unknown): Promise<string> {
  const canonical = JSON.stringify(
    settings,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The finished result of `arm`, or null when it has none yet. A result from other settings
 * is an error rather than silently reused or overwritten.
 */
export async function readFinished(
  reportDir: string,
  arm: Arm,
  key: string,
): Promise<ArmResult | null> {
  const path = resultPath(reportDir, arm);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(
      `${path}: not JSON (${(err as Error).message})`,
      `delete ${armDir(reportDir, arm)} to run the arm again`,
    );
  }
  if (!isArmResult(parsed)) {
    throw new InputError(
      `${path}: not an arm result`,
      `delete ${armDir(reportDir, arm)} to run the arm again`,
    );
  }
  if (parsed.settings_key !== key) {
    throw new InputError(
      `${path}: this arm was run with other settings (data or budget; key ${
        parsed.settings_key.slice(0, 12)
      }… vs ${key.slice(0, 12)}… now)`,
      `give another --out, or delete ${reportDir}/arms to start over with the new settings`,
    );
  }
  return parsed;
}

export interface RunArmsResult {
  results: ArmResult[];
  /** Ids of the arms run now, and of those found finished. */
  ran: string[];
  skipped: string[];
}

/** Runs the unfinished arms in order; returns every arm's result in the order of `arms`. */
export async function runArms(opts: {
  reportDir: string;
  arms: Arm[];
  settingsKey: string;
  execute: ArmExecutor;
  log?: (line: string) => Promise<void>;
  now?: () => number;
}): Promise<RunArmsResult> {
  const log = opts.log ?? (() => Promise.resolve());
  const now = opts.now ?? (() => performance.now());
  const results: ArmResult[] = [];
  const ran: string[] = [], skipped: string[] = [];
  const ids = new Set<string>();
  for (const a of opts.arms) {
    if (ids.has(a.id)) throw new Error(`two arms share the id ${a.id}`);
    ids.add(a.id);
  }
  const pending = [];
  for (const a of opts.arms) {
    const done = await readFinished(opts.reportDir, a, opts.settingsKey);
    if (done) skipped.push(a.id);
    else pending.push(a.id);
  }
  if (skipped.length > 0) {
    await log(
      `experiment: ${skipped.length} of ${opts.arms.length} arms already finished (${
        skipped.join(", ")
      }); running ${pending.length}`,
    );
  }
  let spent = 0;
  for (const [i, a] of opts.arms.entries()) {
    const done = await readFinished(opts.reportDir, a, opts.settingsKey);
    if (done) {
      results.push(done);
      continue;
    }
    const dir = armDir(opts.reportDir, a);
    await Deno.mkdir(dir, { recursive: true });
    await log(`experiment: arm ${i + 1}/${opts.arms.length}: ${a.id}`);
    const t0 = now();
    const partial = await opts.execute(a, dir);
    const result: ArmResult = {
      arm: a,
      settings_key: opts.settingsKey,
      ...partial,
      finished_at: new Date().toISOString(),
    };
    await writeFileAtomic(
      resultPath(opts.reportDir, a),
      new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"),
    );
    results.push(result);
    ran.push(a.id);
    spent += (now() - t0) / 1000;
    const left = pending.length - ran.length;
    const acc = result.accuracy
      ? `accuracy ${(100 * result.accuracy.mean).toFixed(2)} ± ${
        (100 * result.accuracy.std).toFixed(2)
      } %`
      : `diverged: ${result.error ?? "non-finite values"}`;
    await log(
      `experiment: ${a.id}: ${acc} (${duration((now() - t0) / 1000)})` +
        (left > 0 ? `; ${left} arm(s) left, about ${duration((spent / ran.length) * left)}` : ""),
    );
  }
  return { results, ran, skipped };
}
