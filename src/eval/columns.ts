// Whitespace-separated text tables (IJB meta files, noise lists) parsed from bytes: the
// IJB-C pair list has 15.6 million lines, too many to split into strings.
import { InputError } from "../cli/errors.ts";

/** Integer columns of every non-empty line; `source` names the file in errors. */
export function parseIntColumns(bytes: Uint8Array, columns: number, source: string): Int32Array[] {
  const out = Array.from({ length: columns }, () => new Int32Array(1024));
  let rows = 0, line = 1, col = 0, value = 0, digits = 0, negative = false;
  const grow = () => {
    for (let c = 0; c < columns; c++) {
      const bigger = new Int32Array(out[c].length * 2);
      bigger.set(out[c]);
      out[c] = bigger;
    }
  };
  const bad = (why: string): never => {
    throw new InputError(
      `${source}:${line}: ${why}`,
      `each line should hold ${columns} whole numbers separated by spaces`,
    );
  };
  const endField = () => {
    if (digits === 0) return;
    if (col >= columns) bad(`more than ${columns} fields`);
    if (rows >= out[0].length) grow();
    out[col][rows] = negative ? -value : value;
    col++;
    value = 0;
    digits = 0;
    negative = false;
  };
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i] : 10;
    if (b >= 48 && b <= 57) {
      value = value * 10 + (b - 48);
      digits++;
      if (value > 2147483647) bad("number too large");
    } else if (b === 45 && digits === 0 && !negative) {
      negative = true;
    } else if (b === 32 || b === 9 || b === 44 || b === 13) {
      if (negative && digits === 0) bad("a lone '-'");
      endField();
    } else if (b === 10) {
      endField();
      if (col > 0) {
        if (col !== columns) bad(`${col} fields, expected ${columns}`);
        rows++;
      }
      col = 0;
      line++;
    } else {
      bad(`unexpected character ${JSON.stringify(String.fromCharCode(b))}`);
    }
  }
  return out.map((c) => c.slice(0, rows));
}

/** Non-empty, non-comment lines split on whitespace, with their 1-based line numbers. */
export function textRows(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  text.split("\n").forEach((raw, i) => {
    const s = raw.trim();
    if (s === "" || s.startsWith("#")) return;
    rows.push({ line: i + 1, fields: s.split(/\s+/) });
  });
  return rows;
}
