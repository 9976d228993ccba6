// Decoders against PIL's pixels (fixtures made with python3-pil), exact PGM/PPM round trips,
// and every way a file can be bad.
import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { decodeImage, sniffFormat } from "./decode.ts";
import { DecodeError, type RgbImage } from "./image.ts";
import { decodeJpeg } from "./jpeg.ts";
import { crc32, decodePng, encodePng } from "./png.ts";
import { decodePnm, encodePnm } from "./pnm.ts";
import { FIXTURES } from "./testdata.ts";
import { assertClose, randomArray } from "../../tests/helpers/compare.ts";
import { dataset, skipReason } from "../../tests/helpers/data.ts";

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function firstMismatch(got: RgbImage, want: Uint8Array, w: number, h: number): void {
  assertEquals([got.width, got.height], [w, h]);
  assertClose("pixels", got.data, want, { atol: 0, rtol: 0, shape: [h, w, 3] });
}

for (const [name, [file, pixels, w, h]] of Object.entries(FIXTURES)) {
  Deno.test(`decode ${name} equals PIL's pixels exactly`, async () => {
    const bytes = b64(file);
    assertEquals(sniffFormat(bytes), name.split("_")[0] === "jpeg" ? "jpeg" : name.split("_")[0]);
    firstMismatch(await decodeImage(bytes), b64(pixels), w, h);
  });
}

Deno.test("the interlaced GIF fixture really is interlaced", () => {
  const bytes = b64(FIXTURES.gif_interlaced[0]);
  // Image descriptor after the header (13 bytes) and a global table of 2^(n+1) colours.
  const table = bytes[10] & 0x80 ? 3 * (2 << (bytes[10] & 7)) : 0;
  let at = 13 + table;
  while (bytes[at] === 0x21) {
    at += 2;
    while (bytes[at] !== 0) at += bytes[at] + 1;
    at++;
  }
  assertEquals(bytes[at], 0x2c);
  assert((bytes[at + 9] & 0x40) !== 0, "interlace flag not set");
});

Deno.test("PPM and PGM round-trip exactly, with comments and ASCII variants", () => {
  const w = 7, h = 5;
  const rgb = Uint8Array.from(randomArray(w * h * 3, 3, 0, 256), (v) => Math.floor(v));
  const ppm = encodePnm(w, h, rgb);
  assertEquals(new TextDecoder().decode(ppm.subarray(0, 11)), "P6\n7 5\n255\n");
  assertEquals(decodePnm(ppm).data, rgb);
  const grey = rgb.subarray(0, w * h);
  const pgm = decodePnm(encodePnm(w, h, grey, 1));
  for (let i = 0; i < w * h; i++) {
    assertEquals([...pgm.data.subarray(3 * i, 3 * i + 3)], [grey[i], grey[i], grey[i]]);
  }
  const commented = new TextEncoder().encode("P5\n# made by hand\n2 1\n# another\n255\n");
  const withPixels = new Uint8Array([...commented, 10, 250]);
  assertEquals([...decodePnm(withPixels).data], [10, 10, 10, 250, 250, 250]);
  const ascii = new TextEncoder().encode("P3 2 1 15\n15 0 0  0 15 0\n");
  assertEquals([...decodePnm(ascii).data], [255, 0, 0, 0, 255, 0]);
  const wide = new Uint8Array([...new TextEncoder().encode("P5 1 1 65535\n"), 0xff, 0xff]);
  assertEquals([...decodePnm(wide).data], [255, 255, 255]);
});

Deno.test("AT&T-style PGM header (P5 92 112 255) decodes to grey RGB", () => {
  const grey = new Uint8Array(92 * 112).map((_, i) => i % 251);
  const img = decodePnm(encodePnm(92, 112, grey, 1));
  assertEquals([img.width, img.height, img.data[3 * 1000], img.data[3 * 1000 + 2]], [
    92,
    112,
    grey[1000],
    grey[1000],
  ]);
});

Deno.test("bad files throw DecodeError saying what is wrong", async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /empty file/],
    [
      "text",
      new TextEncoder().encode("hello, not an image"),
      /unrecognised image format \(first bytes 68 65/,
    ],
    ["truncated PPM", encodePnm(4, 4, new Uint8Array(48)).subarray(0, 30), /truncated P6 file/],
    ["bad PGM header", new TextEncoder().encode("P5\nx 3\n255\n"), /malformed P5 header/],
    ["truncated JPEG", b64(FIXTURES.jpeg_rgb[0]).subarray(0, 300), /JPEG/],
    ["truncated GIF", b64(FIXTURES.gif[0]).subarray(0, 40), /truncated GIF/],
    ["truncated BMP", b64(FIXTURES.bmp_24[0]).subarray(0, 100), /truncated BMP/],
  ];
  for (const [name, bytes, message] of cases) {
    const err = await Promise.resolve().then(() => decodeImage(bytes)).then(() => null, (e) => e);
    assert(err instanceof DecodeError, `${name}: expected a DecodeError, got ${err}`);
    assert(
      message.test(err.message),
      `${name}: message ${JSON.stringify(err.message)} does not match ${message}`,
    );
  }
  const png = b64(FIXTURES.png_grey[0]).slice();
  png.fill(0x55, 40, 120);
  await assertRejects(() => decodePng(png), DecodeError, "corrupt PNG");
});

Deno.test("JPEG decoder keeps working after thousands of corrupt files", () => {
  const good = b64(FIXTURES.jpeg_rgb[0]);
  const bad = good.slice();
  bad.fill(0xff, 200, 400); // hits libjpeg's fatal-error path (longjmp)
  const truncated = good.subarray(0, 400); // hits the warning path
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    try {
      decodeJpeg(i % 2 ? bad : truncated);
    } catch (err) {
      assert(err instanceof DecodeError);
      errors++;
    }
  }
  assertEquals(errors, 3000);
  assertEquals(decodeJpeg(good).data, b64(FIXTURES.jpeg_rgb[1]));
});

Deno.test("PNG encoder: valid CRCs and a lossless round trip through the wasm decoder", async () => {
  assertEquals(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const img: RgbImage = {
    width: 17,
    height: 6,
    data: Uint8Array.from(randomArray(17 * 6 * 3, 9, 0, 256), Math.floor),
  };
  const png = await encodePng(img);
  const view = new DataView(png.buffer);
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    assertEquals(
      view.getUint32(at + 8 + len),
      crc32(png.subarray(at + 4, at + 8 + len)),
      `chunk at ${at}`,
    );
    at += 12 + len;
  }
  assertEquals((await decodePng(png)).data, img.data);
});

const lfw = dataset("lfw");
Deno.test({
  name: "LFW Aaron_Eckhart_0001.jpg decodes to PIL's and djpeg's pixels",
  ignore: !lfw,
  fn: async () => {
    const img = await decodeImage(
      await Deno.readFile(`${lfw}/Aaron_Eckhart/Aaron_Eckhart_0001.jpg`),
    );
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", img.data as Uint8Array<ArrayBuffer>),
    );
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    // SHA-256 of PIL 9.4's Image.open(...).convert("RGB").tobytes(), equal to `djpeg -ppm` pixels.
    assertEquals(hex, "a8a61bf0267a4e85f8b87d431873dd8fba7a2ca8cbe893de6bae2ff9fc5d2c5b");
    assertEquals([...img.data.subarray((75 * 150 + 75) * 3, (75 * 150 + 75) * 3 + 3)], [
      218,
      162,
      139,
    ]);
  },
});
if (!lfw) console.log(skipReason("lfw"));

Deno.test("decodeImage rejects what only looks like a format by name", () => {
  assertThrows(() => decodeImage(new Uint8Array([0x42, 0x4d, 1, 2])), DecodeError, "unrecognised");
});
