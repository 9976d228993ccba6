// Typed command-line flags over @std/cli's parseArgs (which is untyped in the npm build):
// a stage declares its flags once, gets typed values back and a usage table for free.
import { parseArgs } from "@std/cli/parse-args";
import { UsageError } from "./errors.ts";

export type FlagType = "string" | "number" | "boolean" | "list";

export interface FlagDef {
  type: FlagType;
  /** One line for the usage table. */
  help: string;
  default?: string | number | boolean | string[];
  short?: string;
  /** Placeholder shown in usage, e.g. FILE. */
  arg?: string;
}

export type FlagSpec = Record<string, FlagDef>;

type ValueOf<D extends FlagDef> = D["type"] extends "number" ? number
  : D["type"] extends "boolean" ? boolean
  : D["type"] extends "list" ? string[]
  : string;

export type Flags<S extends FlagSpec> = {
  [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]>
    : S[K]["type"] extends "boolean" | "list" ? ValueOf<S[K]>
    : ValueOf<S[K]> | undefined;
};

/** Parses `args` against `spec`; unknown flags and malformed numbers are usage errors. */
export function parseFlags<S extends FlagSpec>(
  args: string[],
  spec: S,
): { flags: Flags<S>; positional: string[]; given: Set<string> } {
  const string: string[] = [];
  const boolean: string[] = ["help"];
  const collect: string[] = [];
  const alias: Record<string, string> = { h: "help" };
  for (const [name, def] of Object.entries(spec)) {
    if (def.type === "boolean") boolean.push(name);
    else string.push(name);
    if (def.type === "list") collect.push(name);
    if (def.short) alias[def.short] = name;
  }
  let unknown: string | undefined;
  // deno-lint-ignore no-explicit-any
  const parsed: Record<string, any> = parseArgs(args, {
    string,
    boolean,
    collect,
    alias,
    negatable: boolean,
    "--": false,
    unknown: (arg: string) => {
      if (arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg)) {
        unknown ??= arg;
        return false;
      }
      return true;
    },
  });
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  const given = new Set<string>();
  const flags: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) {
    const raw = parsed[name];
    const present = raw !== undefined && !(def.type === "list" && raw.length === 0) &&
      !(def.type === "boolean" && raw === false &&
        !args.some((a) => a === `--${name}` || a === `--no-${name}`));
    if (present) given.add(name);
    if (!present) {
      flags[name] = def.default ??
        (def.type === "list" ? [] : def.type === "boolean" ? false : undefined);
      continue;
    }
    if (def.type === "number") {
      const v = Number(raw);
      if (raw === "" || Array.isArray(raw) || !Number.isFinite(v)) {
        throw new UsageError(`--${name} expects a number, got ${JSON.stringify(raw)}`);
      }
      flags[name] = v;
    } else if (def.type === "string") {
      if (Array.isArray(raw)) throw new UsageError(`--${name} given more than once`);
      if (typeof raw !== "string") throw new UsageError(`--${name} expects a value`);
      flags[name] = raw;
    } else if (def.type === "list") {
      flags[name] = (raw as unknown[]).map(String).flatMap((s) => s.split(",")).filter((s) => s);
    } else {
      flags[name] = Boolean(raw);
    }
  }
  flags.help = parsed.help;
  const positional = (parsed._ as unknown[]).map(String);
  return { flags: flags as Flags<S>, positional, given };
}

/** The options table of a usage text, one flag a line. */
export function formatFlags(spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([name, def]) => {
    const arg = def.type === "boolean"
      ? ""
      : ` ${def.arg ?? (def.type === "number" ? "N" : "VALUE")}`;
    const left = `${def.short ? `-${def.short}, ` : "    "}--${name}${arg}`;
    const dflt = def.default !== undefined && def.type !== "boolean"
      ? ` (default ${Array.isArray(def.default) ? def.default.join(",") : def.default})`
      : "";
    return [left, def.help + dflt] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length), 10) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join("\n");
}

/** Checks a number flag lies in [min, max] and is an integer when asked; quotes it if not. */
export function checkRange(
  name: string,
  v: number,
  { min = -Infinity, max = Infinity, integer = false }: {
    min?: number;
    max?: number;
    integer?: boolean;
  },
): number {
  if ((integer && !Number.isInteger(v)) || v < min || v > max) {
    const kind = integer ? "an integer" : "a number";
    throw new UsageError(`--${name} must be ${kind} in [${min}, ${max}], got ${v}`);
  }
  return v;
}
