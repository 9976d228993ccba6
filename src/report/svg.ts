// Scene → SVG text. Text uses a monospace font so its width matches the layout's estimate.
import type { Scene } from "./plot.ts";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (v: number) => String(Math.round(v * 100) / 100);

export function sceneToSvg(scene: Scene): string {
  const { width, height, area } = scene;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><clipPath id="area"><rect x="${n(area.x)}" y="${n(area.y)}" width="${
      n(area.w)
    }" height="${n(area.h)}"/></clipPath></defs>`,
  ];
  for (const p of scene.items) {
    const clip = "clip" in p && p.clip ? ` clip-path="url(#area)"` : "";
    if (p.kind === "rect") {
      out.push(
        `<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" fill="${
          p.fill ?? "none"
        }"` +
          (p.stroke ? ` stroke="${p.stroke}" stroke-width="${p.width ?? 1}"` : "") + "/>",
      );
    } else if (p.kind === "line") {
      if (p.points.length < 4) continue;
      const pts = [];
      for (let k = 0; k < p.points.length; k += 2) {
        pts.push(`${n(p.points[k])},${n(p.points[k + 1])}`);
      }
      out.push(
        `<polyline points="${
          pts.join(" ")
        }" fill="none" stroke="${p.color}" stroke-width="${p.width}" stroke-linejoin="round"` +
          (p.dash ? ` stroke-dasharray="${p.dash.join(",")}"` : "") + `${clip}/>`,
      );
    } else if (p.kind === "dot") {
      out.push(`<circle cx="${n(p.x)}" cy="${n(p.y)}" r="${p.r}" fill="${p.color}"${clip}/>`);
    } else {
      const anchor = p.anchor === "start" ? "start" : p.anchor === "end" ? "end" : "middle";
      const rot = p.rotate ? ` transform="rotate(-90 ${n(p.x)} ${n(p.y)})"` : "";
      out.push(
        `<text x="${n(p.x)}" y="${
          n(p.y)
        }" font-family="DejaVu Sans Mono, Menlo, monospace" font-size="${p.size}" ` +
          `fill="${p.color}" text-anchor="${anchor}"${rot}>${esc(p.text)}</text>`,
      );
    }
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
