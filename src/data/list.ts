// List files: `relative/path label [x1 y1 … x5 y5]` per line (insightface-style training
// lists, e.g. CelebA's train_list.txt); paths are relative to the list file's folder.
import { dirname, join } from "@std/path";
import { InputError } from "../cli/errors.ts";
import { type Candidate, Skips } from "./source.ts";

export interface ListEntry {
  path: string;
  label: number;
  landmarks: Float32Array | null;
  /** 1-based line number, for messages. */
  line: number;
}

/** Parses a list file's text; `name` is used in messages. Blank lines and `#` comments are skipped. */
export function parseList(text: string, name: string): ListEntry[] {
  const out: ListEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${name}:${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2 && fields.length !== 12) {
      throw new InputError(
        `${where}: expected 'path label' or 'path label x1 y1 … x5 y5' (2 or 12 fields), got ${fields.length}: ${
          quote(line)
        }`,
        "paths with spaces are not supported; fields are separated by spaces or tabs",
      );
    }
    const label = Number(fields[1]);
    if (!Number.isInteger(label) || label < 0) {
      throw new InputError(`${where}: label ${quote(fields[1])} is not a non-negative integer`);
    }
    let landmarks: Float32Array | null = null;
    if (fields.length === 12) landmarks = parseNumbers(fields.slice(2), where);
    out.push({ path: fields[0], label, landmarks, line: i + 1 });
  }
  return out;
}

/** Ten landmark numbers, or an error naming the line and the bad field. */
export function parseNumbers(fields: string[], where: string): Float32Array {
  const values = new Float32Array(fields.length);
  fields.forEach((f, j) => {
    const v = Number(f);
    if (f === "" || !Number.isFinite(v)) {
      throw new InputError(`${where}: landmark ${j + 1} (${quote(f)}) is not a number`);
    }
    values[j] = v;
  });
  return values;
}

export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);
}

/**
 * Candidates of a list file; the identity is the label as written (so the dense relabelling,
 * which orders integer names numerically, keeps a list's own dense labels). Listed files that
 * do not exist are skipped and counted.
 */
export async function listFromFile(file: string): Promise<{ items: Candidate[]; skips: Skips }> {
  const text = await Deno.readTextFile(file);
  const root = dirname(file);
  const skips = new Skips();
  const items: Candidate[] = [];
  const seen = new Map<string, number>();
  for (const e of parseList(text, file)) {
    const first = seen.get(e.path);
    if (first !== undefined) {
      throw new InputError(
        `${file}:${e.line}: ${quote(e.path)} is listed again (first on line ${first})`,
      );
    }
    seen.set(e.path, e.line);
    const path = join(root, e.path);
    if (!(await exists(path))) {
      skips.add("listed but missing", `${e.path} (line ${e.line})`);
      continue;
    }
    items.push({ id: e.path, identity: String(e.label), path, landmarks: e.landmarks });
  }
  return { items, skips };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}
