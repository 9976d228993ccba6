// Plots: axis ticks, SVG content, and the PNG decoded independently (chunk CRCs, zlib
// through the runtime's DecompressionStream) to check the pixels land where the layout says.
import { assertEquals, assertStringIncludes } from "@std/assert";
import { plotPng, plotSvg } from "./mod.ts";
import { layoutPlot, type PlotSpec } from "./plot.ts";
import { crc32 } from "../image/png.ts";

const spec: PlotSpec = {
  title: "ROC <test> & more",
  xLabel: "FAR",
  yLabel: "TAR",
  xLog: true,
  xRange: [1e-6, 1],
  yRange: [0, 1],
  series: [
    { name: "flat", x: [1e-6, 1], y: [0.5, 0.5], color: "#ff0000" },
    { name: "dashed", x: [1e-6, 1e-3, 1], y: [0.1, 0.2, 0.9], dashed: true },
  ],
};

function ticks(s: PlotSpec) {
  return layoutPlot(s).items.filter((p) => p.kind === "text").map((p) =>
    p.kind === "text" ? p.text : ""
  );
}

Deno.test("axes: log decades and nice linear steps", () => {
  const t = ticks(spec);
  for (const label of ["1e-6", "1e-5", "1e-3", "1e-1", "1", "0", "0.2", "0.4", "0.6", "0.8"]) {
    assertEquals(t.includes(label), true, `${label} missing from ${t}`);
  }
  const lin = ticks({ xLabel: "x", yLabel: "y", series: [{ name: "s", x: [0, 37], y: [3, 4] }] });
  for (const label of ["0", "10", "20", "30", "40", "3", "3.2", "4"]) {
    assertEquals(lin.includes(label), true, `${label} in ${lin}`);
  }
});

Deno.test("svg: one polyline per series plus legend samples, escaped text, clipped data", () => {
  const svg = plotSvg(spec);
  assertStringIncludes(svg, "<svg xmlns=");
  assertStringIncludes(svg, "ROC &lt;test&gt; &amp; more");
  assertEquals((svg.match(/clip-path="url\(#area\)"/g) ?? []).length, 2);
  assertStringIncludes(svg, 'stroke="#ff0000"');
  assertStringIncludes(svg, "stroke-dasharray=");
  assertEquals(svg.trim().endsWith("</svg>"), true);
});

async function decodePng(bytes: Uint8Array) {
  assertEquals(Array.from(bytes.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  let at = 8, width = 0, height = 0;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const crc = view.getUint32(at + 8 + len);
    assertEquals(
      crc32(bytes.subarray(at + 4, at + 8 + len)),
      crc,
      `${type} CRC`,
    );
    if (type === "IHDR") [width, height] = [view.getUint32(at + 8), view.getUint32(at + 12)];
    if (type === "IDAT") idat.push(bytes.slice(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = new Uint8Array(
    await new Response(
      new Blob(idat as BlobPart[]).stream().pipeThrough(new DecompressionStream("deflate")),
    ).arrayBuffer(),
  );
  assertEquals(raw.length, height * (1 + width * 4));
  const pixel = (x: number, y: number) =>
    Array.from(raw.subarray(y * (1 + width * 4) + 1 + x * 4, y * (1 + width * 4) + 1 + x * 4 + 4));
  return { width, height, pixel };
}

Deno.test("png: same layout, drawn at 2×: background white, the red series on its row", async () => {
  const scene = layoutPlot(spec);
  const png = await decodePng(await plotPng(spec, 2));
  assertEquals([png.width, png.height], [scene.width * 2, scene.height * 2]);
  assertEquals(png.pixel(1, 1), [255, 255, 255, 255]);
  // y = 0.5 is halfway down the plot area; the middle of the line is pure red.
  const a = scene.area;
  const y = Math.floor((a.y + a.h / 2) * 2), x = Math.floor((a.x + a.w * 0.3) * 2);
  assertEquals(png.pixel(x, y), [255, 0, 0, 255]);
  // Well away from every line and label, the plot area stays white.
  assertEquals(png.pixel(Math.floor((a.x + a.w * 0.3) * 2), Math.floor((a.y + a.h * 0.3) * 2)), [
    255,
    255,
    255,
    255,
  ]);
});
