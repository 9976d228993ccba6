// Byte-level parsing of IJB meta tables.
import { assertEquals, assertThrows } from "@std/assert";
import { InputError } from "../cli/errors.ts";
import { parseIntColumns, textRows } from "./columns.ts";

const enc = new TextEncoder();

Deno.test("int columns: spaces, tabs, CRLF, a missing final newline, negatives", () => {
  const [a, b, c] = parseIntColumns(enc.encode("1 2 1\r\n\n11065\t-3 0\n7 8 1"), 3, "pairs.txt");
  assertEquals([Array.from(a), Array.from(b), Array.from(c)], [[1, 11065, 7], [2, -3, 8], [
    1,
    0,
    1,
  ]]);
  const many = parseIntColumns(enc.encode("1 2\n".repeat(5000)), 2, "x")[0];
  assertEquals(many.length, 5000);
});

Deno.test("int columns: a bad line names file and line", () => {
  assertThrows(
    () => parseIntColumns(enc.encode("1 2 1\n3 4\n"), 3, "p.txt"),
    InputError,
    "p.txt:2: 2 fields",
  );
  assertThrows(
    () => parseIntColumns(enc.encode("1 2 x\n"), 3, "p.txt"),
    InputError,
    "p.txt:1: unexpected",
  );
});

Deno.test("text rows skip blanks and comments and keep line numbers", () => {
  assertEquals(textRows("# c\n1.jpg 1 2\n\n2.jpg 1 3\n"), [
    { line: 2, fields: ["1.jpg", "1", "2"] },
    { line: 4, fields: ["2.jpg", "1", "3"] },
  ]);
});
