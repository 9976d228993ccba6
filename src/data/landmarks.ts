// Landmark files joined to images by path: lines `path x1 y1 … x5 y5`, tab or space
// separated (e.g. SphereFace's lfw_landmark.txt), optionally scaled to the images' size.
import { InputError } from "../cli/errors.ts";
import { parseNumbers, quote } from "./list.ts";
import type { Candidate } from "./source.ts";

/** Parses a landmark file into path → 10 numbers (already multiplied by `scale`). */
export function parseLandmarks(text: string, name: string, scale = 1): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${name}:${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 11) {
      throw new InputError(
        `${where}: expected 'path x1 y1 x2 y2 x3 y3 x4 y4 x5 y5' (11 fields), got ${fields.length}: ${
          quote(line)
        }`,
      );
    }
    const key = normalizeKey(fields[0]);
    if (out.has(key)) {
      throw new InputError(`${where}: ${quote(fields[0])} has landmarks on an earlier line too`);
    }
    const values = parseNumbers(fields.slice(1), where);
    if (scale !== 1) { for (let j = 0; j < 10; j++) values[j] *= scale; }
    out.set(key, values);
  }
  return out;
}

/** Paths compare with '/' separators and without a leading './'. */
export function normalizeKey(path: string): string {
  return path.replaceAll("\\", "/").replace(/^(\.\/)+/, "");
}

export interface JoinReport {
  joined: number;
  /** Images with no landmark line. */
  withoutLandmarks: string[];
  /** Landmark lines whose image is not in the dataset. */
  absentImages: string[];
}

/** Sets each candidate's landmarks from the map (replacing any it had); reports both misses. */
export function joinLandmarks(
  items: Candidate[],
  landmarks: Map<string, Float32Array>,
): JoinReport {
  const used = new Set<string>();
  const withoutLandmarks: string[] = [];
  for (const item of items) {
    const key = normalizeKey(item.id);
    const lm = landmarks.get(key);
    if (lm) {
      item.landmarks = lm;
      used.add(key);
    } else {
      item.landmarks = null;
      withoutLandmarks.push(item.id);
    }
  }
  const absentImages = [...landmarks.keys()].filter((k) => !used.has(k));
  return { joined: used.size, withoutLandmarks, absentImages };
}
