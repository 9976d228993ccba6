// Plots as data: a line chart spec (several series, linear or log axes) laid out once into
// drawing primitives that both the SVG and the PNG renderer draw, so the two always agree.
// Used by `evaluate --plot` (ROC, CMC) and by training curves and experiment reports.

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; defaults to the palette in order. */
  color?: string;
  dashed?: boolean;
  /** Draw a dot at every point (for short series such as rank-1 vs distractors). */
  markers?: boolean;
}

export interface PlotSpec {
  title?: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  /** Axis ranges; by default the data's extent (nice-rounded on linear axes). */
  xRange?: [number, number];
  yRange?: [number, number];
  series: Series[];
  /** Size in CSS pixels (PNG output is drawn at `scale` times this). */
  width?: number;
  height?: number;
  legend?: "lower right" | "upper right" | "lower left" | "upper left" | "none";
}

/** Tableau 10: distinct, colour-blind-friendly line colours. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

export type Primitive =
  | {
    kind: "line";
    points: number[];
    color: string;
    width: number;
    dash?: number[];
    clip?: boolean;
  }
  | {
    kind: "rect";
    x: number;
    y: number;
    w: number;
    h: number;
    fill?: string;
    stroke?: string;
    width?: number;
  }
  | { kind: "dot"; x: number; y: number; r: number; color: string; clip?: boolean }
  | {
    kind: "text";
    x: number;
    y: number;
    text: string;
    size: number;
    color: string;
    anchor: "start" | "middle" | "end";
    rotate?: boolean;
  };

/** A laid-out plot: size, the plot area (for clipping) and primitives in drawing order. */
export interface Scene {
  width: number;
  height: number;
  area: { x: number; y: number; w: number; h: number };
  items: Primitive[];
}

/** Approximate advance of a monospace character, as a fraction of the font size. */
export const CHAR_WIDTH = 0.6;

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
  label: (v: number) => string;
}

function finiteExtent(values: ArrayLike<number>[], log: boolean): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const vs of values) {
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i];
      if (!Number.isFinite(v) || (log && v <= 0)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo === Infinity) return log ? [0.1, 1] : [0, 1];
  if (lo === hi) return log ? [lo / 10, hi * 10] : [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

function formatNumber(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential().split("e");
    return `${Number(m).toPrecision(3).replace(/\.?0+$/, "")}e${e.replace("+", "")}`;
  }
  return String(Number(v.toPrecision(6)));
}

function makeAxis(
  range: [number, number] | undefined,
  values: ArrayLike<number>[],
  log: boolean,
): Axis {
  let [lo, hi] = range ?? finiteExtent(values, log);
  if (log) {
    if (!range) [lo, hi] = [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
    const ticks: number[] = [];
    for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) {
      ticks.push(10 ** e);
    }
    const label = (v: number) => {
      const e = Math.round(Math.log10(v));
      return e >= 0 && e <= 4 ? String(10 ** e) : `1e${e}`;
    };
    return { lo, hi, log, ticks, label };
  }
  const span = hi - lo;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (!range) [lo, hi] = [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    ticks.push(Number((k * step).toPrecision(12)));
  }
  return { lo, hi, log, ticks, label: formatNumber };
}

/** Lays out a line chart into primitives (CSS pixel coordinates, y down). */
export function layoutPlot(spec: PlotSpec): Scene {
  const width = spec.width ?? 640, height = spec.height ?? 440;
  const font = 12;
  const xAxis = makeAxis(spec.xRange, spec.series.map((s) => s.x), !!spec.xLog);
  const yAxis = makeAxis(spec.yRange, spec.series.map((s) => s.y), !!spec.yLog);
  const yLabelWidth = Math.max(...yAxis.ticks.map((t) => yAxis.label(t).length)) * CHAR_WIDTH *
    font;
  const left = Math.ceil(30 + yLabelWidth), right = 20, top = spec.title ? 34 : 14, bottom = 48;
  const area = { x: left, y: top, w: width - left - right, h: height - top - bottom };
  const t = (a: Axis, v: number) => {
    const f = a.log
      ? (Math.log10(Math.max(v, 1e-300)) - Math.log10(a.lo)) / (Math.log10(a.hi) - Math.log10(a.lo))
      : (v - a.lo) / (a.hi - a.lo);
    return Math.max(-1, Math.min(2, f)); // far-off points clamp just outside, then get clipped
  };
  const px = (v: number) => area.x + t(xAxis, v) * area.w;
  const py = (v: number) => area.y + (1 - t(yAxis, v)) * area.h;
  const items: Primitive[] = [{ kind: "rect", x: 0, y: 0, w: width, h: height, fill: "#ffffff" }];
  const grid = "#d9d9d9", ink = "#333333";
  for (const v of xAxis.ticks) {
    const x = px(v);
    items.push({
      kind: "line",
      points: [x, area.y, x, area.y + area.h],
      color: grid,
      width: 1,
      dash: [4, 3],
    });
    items.push({
      kind: "text",
      x,
      y: area.y + area.h + 16,
      text: xAxis.label(v),
      size: font,
      color: ink,
      anchor: "middle",
    });
  }
  for (const v of yAxis.ticks) {
    const y = py(v);
    items.push({
      kind: "line",
      points: [area.x, y, area.x + area.w, y],
      color: grid,
      width: 1,
      dash: [4, 3],
    });
    items.push({
      kind: "text",
      x: area.x - 6,
      y: y + font * 0.35,
      text: yAxis.label(v),
      size: font,
      color: ink,
      anchor: "end",
    });
  }
  items.push({ kind: "rect", x: area.x, y: area.y, w: area.w, h: area.h, stroke: ink, width: 1 });
  items.push({
    kind: "text",
    x: area.x + area.w / 2,
    y: height - 10,
    text: spec.xLabel,
    size: font,
    color: ink,
    anchor: "middle",
  });
  items.push({
    kind: "text",
    x: 14,
    y: area.y + area.h / 2,
    text: spec.yLabel,
    size: font,
    color: ink,
    anchor: "middle",
    rotate: true,
  });
  if (spec.title) {
    items.push({
      kind: "text",
      x: width / 2,
      y: 20,
      text: spec.title,
      size: font + 2,
      color: "#000000",
      anchor: "middle",
    });
  }
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const points: number[] = [];
    for (let k = 0; k < s.x.length; k++) {
      if (!Number.isFinite(s.x[k]) || !Number.isFinite(s.y[k])) continue;
      points.push(px(s.x[k]), py(s.y[k]));
    }
    items.push({
      kind: "line",
      points,
      color,
      width: 2,
      dash: s.dashed ? [7, 4] : undefined,
      clip: true,
    });
    if (s.markers) {
      for (let k = 0; k < points.length; k += 2) {
        items.push({ kind: "dot", x: points[k], y: points[k + 1], r: 3, color, clip: true });
      }
    }
  });
  const where = spec.legend ?? "lower right";
  if (where !== "none" && spec.series.length > 0) {
    const rowH = font + 6;
    const textW = Math.max(...spec.series.map((s) => s.name.length)) * CHAR_WIDTH * font;
    const w = textW + 42, h = spec.series.length * rowH + 8;
    const x = where.endsWith("right") ? area.x + area.w - w - 8 : area.x + 8;
    const y = where.startsWith("lower") ? area.y + area.h - h - 8 : area.y + 8;
    items.push({ kind: "rect", x, y, w, h, fill: "#ffffff", stroke: "#999999", width: 1 });
    spec.series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const cy = y + 4 + rowH * i + rowH / 2;
      items.push({
        kind: "line",
        points: [x + 6, cy, x + 30, cy],
        color,
        width: 2,
        dash: s.dashed ? [7, 4] : undefined,
      });
      items.push({
        kind: "text",
        x: x + 36,
        y: cy + font * 0.35,
        text: s.name,
        size: font,
        color: ink,
        anchor: "start",
      });
    });
  }
  return { width, height, area, items };
}
