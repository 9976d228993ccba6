// Stage command lines as a person would type them, for reports and commands.sh: `p2sgrad`
// stands for the deno.json task (`deno task p2sgrad …`), arguments are shell-quoted.

/** `p2sgrad` as a shell function, so a commands.sh file runs as written. */
export const P2SGRAD_FUNCTION =
  'p2sgrad() { npx -y deno@2.9.6 run --quiet --allow-read --allow-write --allow-env "$P2SGRAD_MAIN" "$@"; }';

/** Quotes one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** `p2sgrad a … | p2sgrad b …` for a pipeline of stage argument lists. */
export function formatCommand(stages: string[][]): string {
  return stages.map((args) => ["p2sgrad", ...args].map(shellQuote).join(" ")).join(" | ");
}

/** A pipeline with its redirections and an optional `| tee FILE |` after stage `tee.after`. */
export function formatPipeline(
  stages: string[][],
  io: { stdinFile?: string; stdoutFile?: string; tee?: { after: number; file: string } } = {},
): string {
  const parts = stages.map((args) => ["p2sgrad", ...args].map(shellQuote).join(" "));
  if (io.tee) parts.splice(io.tee.after + 1, 0, `tee ${shellQuote(io.tee.file)}`);
  let cmd = parts.join(" | ");
  if (io.stdinFile) cmd += ` < ${shellQuote(io.stdinFile)}`;
  if (io.stdoutFile) cmd += ` > ${shellQuote(io.stdoutFile)}`;
  return cmd;
}

/** A runnable shell script of `commands` (from the repository root). */
export function commandsScript(title: string, commands: string[], mainPath: string): string {
  return [
    "#!/bin/sh",
    `# ${title}`,
    "# Run from the folder these commands ran in (paths are as given); p2sgrad is this checkout's.",
    "set -e",
    `P2SGRAD_MAIN=${shellQuote(mainPath)}`,
    P2SGRAD_FUNCTION,
    "",
    ...commands,
    "",
  ].join("\n");
}
