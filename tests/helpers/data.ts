// Where the real datasets live, and a skip message that names what is missing.

/** ../shared/data beside the checkout, or $P2SGRAD_DATA. */
export const DATA_ROOT: string = Deno.env.get("P2SGRAD_DATA") ??
  new URL("../../../shared/data", import.meta.url).pathname;

/** The dataset folder if present, else null (and the test should be ignored with `skipReason`). */
export function dataset(name: string): string | null {
  const dir = `${DATA_ROOT}/${name}`;
  try {
    return Deno.statSync(dir).isDirectory ? dir : null;
  } catch {
    return null;
  }
}

export function skipReason(name: string): string {
  return `skipped: needs ${DATA_ROOT}/${name} (set P2SGRAD_DATA to the folder holding it)`;
}
