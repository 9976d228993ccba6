// Dataset folders: ROOT/<identity>/<image> (LFW, CelebA crops, AT&T faces), or flat folders
// whose identity is a part of the file name (Yale faces: subject01.happy) via a pattern.
import { join } from "@std/path";
import { sniffFormat } from "../image/decode.ts";
import { type Candidate, Skips } from "./source.ts";

export const IMAGE_EXTENSIONS: readonly string[] = [
  "jpg",
  "jpeg",
  "png",
  "pgm",
  "ppm",
  "pnm",
  "bmp",
  "gif",
];

export interface FolderOptions {
  /**
   * Takes the identity from the path relative to the root: the first capture group of this
   * pattern. Default: the first folder (ROOT/<identity>/...).
   */
  identityPattern?: RegExp;
}

/** Lists the images under `root`, sorted by id (the path relative to root, with '/'). */
export async function listFolder(
  root: string,
  opt: FolderOptions = {},
): Promise<{ items: Candidate[]; skips: Skips }> {
  const items: Candidate[] = [];
  const skips = new Skips();
  const files: string[] = [];
  await walk(root, "", files);
  files.sort();
  for (const rel of files) {
    const name = rel.slice(rel.lastIndexOf("/") + 1);
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
    let identity: string | undefined;
    if (opt.identityPattern) identity = opt.identityPattern.exec(rel)?.[1];
    else if (rel.includes("/")) identity = rel.slice(0, rel.indexOf("/"));
    if (!IMAGE_EXTENSIONS.includes(ext)) {
      // No known extension: accept it when its first bytes are an image (Yale: subject01.happy).
      if (!(await sniffsAsImage(join(root, rel)))) {
        if (rel.includes("/") || opt.identityPattern) skips.add("not an image file", rel);
        continue;
      }
    }
    if (identity === undefined || identity === "") {
      skips.add(
        opt.identityPattern
          ? "identity pattern does not match"
          : "image at top level, not in an identity folder",
        rel,
      );
      continue;
    }
    items.push({ id: rel, identity, path: join(root, rel), landmarks: null });
  }
  return { items, skips };
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const dir = rel ? join(root, rel) : root;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    let isDir = entry.isDirectory, isFile = entry.isFile;
    if (entry.isSymlink) {
      const info = await Deno.stat(join(root, child)).catch(() => null);
      isDir = info?.isDirectory ?? false;
      isFile = info?.isFile ?? false;
    }
    if (isDir) await walk(root, child, out);
    else if (isFile) out.push(child);
  }
}

async function sniffsAsImage(path: string): Promise<boolean> {
  const file = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(32);
    const n = (await file.read(head)) ?? 0;
    const format = sniffFormat(head.subarray(0, n));
    return format !== null;
  } finally {
    file.close();
  }
}
