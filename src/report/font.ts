// A 5×7 bitmap font for the PNG renderer (printable ASCII), so raster plots need no font
// files. Each glyph is 7 base-32 digits, one per row, bit 4 = leftmost pixel.

const PACKED =
  "00000004444404aa00000aavavaa4fke5u4op248j3cik8lid44000002488842842224804lel40044v440" +
  "0000c48000v00000000cc01248g0ehjlphe4c4444eeh1248vv2421he26aiv22vgu11he68guhhev124888" +
  "ehhehheehhf12c0cc0cc00cc0c48248g84200v0v008421248eh12404eh1dlleehhvhhhuhhuhhuehggghe" +
  "sihhhisvgguggvvggugggehgnhhfhhhvhhhe44444e72222ichikokihggggggvhrllhhhhhpljhhehhhhhe" +
  "uhhugggehhhliduhhukihfgge11uv444444hhhhhhehhhhha4hhhlllahha4ahhhhha444v1248gve88888e" +
  "0g84210e22222e4ah0000000000v840000000e1fhfggmphhu00egghe11djhhf00ehvge698s8880fhhf1e" +
  "ggmphhh40c444e20622icggikokic44444e00qllhh00mphhh00ehhhe00uhugg00djf1100mpggg00ege1u" +
  "88s889600hhhjd00hhha400hhlla00ha4ah00hhf1e00v248v244844244444448442448008l200";

const DIGITS = "0123456789abcdefghijklmnopqrstuv";

/** Glyph cell: 5 pixels wide plus 1 of spacing, 7 high. */
export const GLYPH_W = 5, GLYPH_H = 7, ADVANCE = 6;

/** The 7 row bitmasks of a character; characters outside printable ASCII draw as '?'. */
export function glyphRows(ch: string): number[] {
  let code = ch.charCodeAt(0);
  if (!(code >= 32 && code <= 126)) code = 63;
  const at = (code - 32) * 7;
  return Array.from({ length: 7 }, (_, r) => DIGITS.indexOf(PACKED[at + r]));
}
