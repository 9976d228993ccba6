// The training loop around the one-submit step (trainer.ts): keeps at most two steps in
// flight while the CPU draws the next batch, reads the small statistics only on logged
// steps, validates, checkpoints, and stops with a clear message at the first non-finite
// loss or gradient (the optimizer's guard has skipped that update; the last checkpoint
// written is from before it).
import { InputError } from "../cli/errors.ts";
import type { Log } from "../cli/io.ts";
import { type InputFacts, saveCheckpoint } from "./checkpoint.ts";
import type { Embedder } from "./embedder.ts";
import { HEADS } from "./heads.ts";
import { type LogEntry, progressBar, progressLine, type TrainLog } from "./run_log.ts";
import type { Trainer } from "./trainer.ts";
import { validate, type ValidationSet } from "./validate.ts";

export interface LoopOptions {
  trainer: Trainer;
  runDir: string;
  input: InputFacts;
  /** Steps already completed (0, or the checkpoint's step when resuming). */
  startStep: number;
  totalSteps: number;
  /** Stop (with a checkpoint) once this many steps are completed, before the planned end. */
  stopAfter: number | null;
  log: Log;
  trainLog: TrainLog;
  validation: { set: ValidationSet; embedder: Embedder } | null;
  /** Seconds between plain progress lines when stderr is not a terminal. */
  plainEverySeconds?: number;
}

export interface LoopResult {
  /** Steps completed. */
  step: number;
  /** The planned length was reached. */
  finished: boolean;
  last: LogEntry | null;
  seconds: number;
}

/** A non-finite loss or gradient: exit 1 with the step, the head and what to try. */
export class DivergedError extends InputError {
  override name = "DivergedError";
}

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const t = o.trainer, c = t.opts.config, gpu = t.gpu;
  const end = Math.min(o.totalSteps, o.stopAfter ?? Infinity);
  const started = performance.now();
  let lastLogAt = started, lastLogStep = o.startStep, lastPrinted = -Infinity;
  let last: LogEntry | null = null;
  let inFlight: Promise<void> | null = null;
  let lastSaved: number | null = o.startStep > 0 ? o.startStep : null;
  const plainEvery = (o.plainEverySeconds ?? 10) * 1000;

  const checkFinite = async (upTo: number) => {
    const st = await t.optimizer.readStatus();
    if (st.firstBadStep === null) return st;
    const bad = st.firstBadStep;
    const h = t.opts.head;
    const hp = HEADS[h.name].defaults.s
      ? ` (scale ${h.s}${HEADS[h.name].defaults.m ? `, margin ${h.m}` : ""})`
      : "";
    const kept = lastSaved !== null
      ? `the last good checkpoint (step ${lastSaved}) is kept in ${o.runDir}/checkpoints/`
      : "no checkpoint had been written yet";
    throw new DivergedError(
      `step ${
        bad + 1
      } (of ${upTo} run so far): non-finite loss or gradient with head ${h.name}${hp} ` +
        `at learning rate ${t.lr(bad).toPrecision(3)}; training stopped and ${kept}`,
      `the learning rate is likely too high for this head${hp ? " and scale" : ""}: lower --lr` +
        `${hp ? " or --scale" : ""}, add --warmup-steps, or clip with --clip-grad 5`,
    );
  };

  if (o.startStep < end) t.prepare(o.startStep);
  for (let s = o.startStep; s < end; s++) {
    t.submit(s);
    const done = gpu.device.queue.onSubmittedWorkDone();
    if (s + 1 < end) t.prepare(s + 1); // CPU work while the device runs step s
    if (inFlight) await inFlight; // step s − 1 done: never more than two steps queued
    inFlight = done;
    const step = s + 1;
    const final = step === end;
    const valNow = o.validation !== null &&
      ((c.val_every > 0 && step % c.val_every === 0) || step === o.totalSteps);
    const saveNow = final || (c.save_every > 0 && step % c.save_every === 0);
    if (!(step % c.log_every === 0 || final || valNow)) {
      if (saveNow) await save(step);
      continue;
    }
    const stats = await t.readStats();
    const st = await checkFinite(step);
    const now = performance.now();
    const entry: LogEntry = {
      step,
      epoch: Number((step / t.stepsPerEpoch).toFixed(4)),
      loss: stats.loss,
      theta_y_deg: HEADS[t.opts.head.name].normalised ? stats.thetaTargetDeg : null,
      cos_nontarget: HEADS[t.opts.head.name].normalised ? stats.cosNonTarget : null,
      grad_norm_features: stats.featureGradNorm,
      grad_norm: st.gradNorm,
      lr: t.lr(s),
      img_per_s: ((step - lastLogStep) * c.batch) / Math.max(1e-9, (now - lastLogAt) / 1000),
    };
    if (valNow) {
      const v = await validate(o.validation!.embedder, o.validation!.set);
      entry.val_acc = v.accuracy;
      entry.val_std = v.std;
    }
    lastLogAt = performance.now();
    lastLogStep = step;
    await o.trainLog.append(entry);
    last = entry;
    const perStep = (lastLogAt - started) / 1000 / (step - o.startStep);
    const line = progressLine(entry, o.totalSteps, perStep * (end - step));
    if (o.log.isTerminal) await o.log.progress(`${progressBar(step / o.totalSteps)} ${line}`);
    else if (final || lastLogAt - lastPrinted >= plainEvery || valNow) {
      await o.log.line(line);
      lastPrinted = lastLogAt;
    }
    if (saveNow) await save(step);
  }
  if (inFlight) await inFlight;
  gpu.throwIfFailed();
  return {
    step: end,
    finished: end === o.totalSteps,
    last,
    seconds: (performance.now() - started) / 1000,
  };

  async function save(step: number) {
    await checkFinite(step);
    await saveCheckpoint(o.runDir, await t.snapshot(step, o.input), c.keep_checkpoints);
    lastSaved = step;
  }
}
