// Plots for every report: describe a line chart once (PlotSpec), get SVG text or PNG bytes.
//
//   import { writePlot } from "../report/mod.ts";
//   await writePlot("roc.svg", { xLabel: "FAR", yLabel: "TAR", xLog: true,
//     series: [{ name: "p2sgrad", x: fpr, y: tpr }] });
import { layoutPlot, type PlotSpec } from "./plot.ts";
import { encodePngRgba } from "../image/png.ts";
import { rasterize } from "./raster.ts";
import { sceneToSvg } from "./svg.ts";

export { layoutPlot, PALETTE, type PlotSpec, type Series } from "./plot.ts";

export function plotSvg(spec: PlotSpec): string {
  return sceneToSvg(layoutPlot(spec));
}

/** The same plot as a PNG drawn at `scale` × its CSS size (2 by default, for crisp text). */
export function plotPng(spec: PlotSpec, scale = 2): Promise<Uint8Array> {
  const r = rasterize(layoutPlot(spec), scale);
  return encodePngRgba(r.width, r.height, r.rgba);
}

/** Writes the plot as PNG when `path` ends in .png, else as SVG. */
export async function writePlot(path: string, spec: PlotSpec): Promise<void> {
  if (path.toLowerCase().endsWith(".png")) await Deno.writeFile(path, await plotPng(spec));
  else await Deno.writeTextFile(path, plotSvg(spec));
}
