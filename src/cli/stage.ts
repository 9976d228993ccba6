// What every subcommand module exports: its usage and a run function over injectable I/O.
import type { Io } from "./io.ts";

export interface Stage {
  name: string;
  /** One line for `p2sgrad --help`. */
  summary: string;
  /** Full usage text with a worked example, for `p2sgrad <stage> --help` and usage errors. */
  usage: string;
  /** Runs the stage; returns the exit code (0 ok, 1 failure). Throws UsageError for exit 2. */
  run(args: string[], io: Io): Promise<number>;
}
