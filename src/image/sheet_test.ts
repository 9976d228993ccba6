// Captions and contact-sheet layout: glyph ink, text fitting, tile placement and dots.
import { assert, assertEquals } from "@std/assert";
import { drawText, fitText, textWidth } from "./font.ts";
import type { RgbImage } from "./image.ts";
import { contactSheet } from "./sheet.ts";

function blank(w: number, h: number): RgbImage {
  return { width: w, height: h, data: new Uint8Array(w * h * 3) };
}

function inked(img: RgbImage): string[] {
  const rows: string[] = [];
  for (let y = 0; y < img.height; y++) {
    let row = "";
    for (let x = 0; x < img.width; x++) row += img.data[(y * img.width + x) * 3] ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

Deno.test("drawText draws 3×5 glyphs with a blank column between; lower case as capitals", () => {
  const img = blank(7, 5);
  drawText(img, 0, 0, "h1", [255, 255, 255]);
  assertEquals(inked(img), ["#.#..#.", "#.#.##.", "###..#.", "#.#..#.", "#.#.###"]);
  const unknown = blank(3, 5), question = blank(3, 5);
  drawText(unknown, 0, 0, "é", [255, 0, 0]);
  drawText(question, 0, 0, "?", [255, 0, 0]);
  assertEquals(inked(unknown), inked(question));
});

Deno.test("fitText cuts long names with '..' to the tile width", () => {
  assertEquals(textWidth("abc"), 11);
  assertEquals(fitText("Aaron_Eckhart", 100), "Aaron_Eckhart");
  const cut = fitText("Abdel_Aziz_Al-Hakim_the_long", 40);
  assert(cut.endsWith("..") && textWidth(cut) <= 40, cut);
  assertEquals(cut, "Abdel_Az..");
});

Deno.test("contactSheet places tiles in a grid, draws dots and leaves empty cells grey", () => {
  const tile = 4;
  const red = new Uint8Array(tile * tile * 3).map((_, i) => (i % 3 === 0 ? 200 : 0));
  const sheet = contactSheet([[{
    pixels: red,
    caption: "a",
    dots: [{ x: 2, y: 2, color: [0, 0, 255] }],
  }, null]], tile);
  // 2 cells of 4 px + 2-px gaps; caption strip of 9 px.
  assertEquals([sheet.width, sheet.height], [2 * 6 + 2, 4 + 9 + 2 + 2]);
  const px = (
    x: number,
    y: number,
  ) => [...sheet.data.subarray((y * sheet.width + x) * 3, (y * sheet.width + x) * 3 + 3)];
  assertEquals(px(2, 2), [200, 0, 0]);
  assertEquals(px(4, 4), [0, 0, 255], "dot centre at tile (2, 2)");
  assertEquals(px(8, 2), [48, 48, 48], "empty cell");
  assertEquals(px(0, 0), [24, 24, 24], "background");
});
