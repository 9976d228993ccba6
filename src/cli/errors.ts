// Error kinds that map to the command's exit codes (0 ok, 1 failure, 2 usage).

/** Wrong flags or arguments: exit code 2, the stage's usage is shown. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Bad input or a failed run: exit code 1. `where` names the file, line or record
 * so a person can find it; `hint` says what to do about it.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(message: string, readonly hint?: string) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
  }
}

/** True when writing failed because the reader of our stdout went away (`| head`). */
export function isBrokenPipe(err: unknown): boolean {
  if (err instanceof Deno.errors.BrokenPipe) return true;
  if (err instanceof Deno.errors.ConnectionReset) return true;
  const code = (err as { code?: string })?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/** Shortens any thrown value to one message line for stderr. */
export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
