// WGSL has no includes; the hand-written per-channel kernels share their shape constants and
// index helpers through `//! include NAME` lines instead (a comment to any other WGSL tool),
// which the loader replaces with kernels/include/NAME.wgsl. One level only: a snippet holds
// declarations, not further includes.

const INCLUDE = /^\/\/! include (\S+)[ \t]*$/gm;

/**
 * `text` (kernel `kernel`) with each include line replaced by `read(NAME)`; throws naming the
 * kernel and line for a snippet that cannot be read or that includes another.
 */
export function expandIncludes(
  kernel: string,
  text: string,
  read: (name: string) => string,
): string {
  return text.replace(INCLUDE, (_line, name: string, offset: number) => {
    const at = `kernel ${kernel}, line ${text.slice(0, offset).split("\n").length}`;
    let snippet: string;
    try {
      snippet = read(name);
    } catch (err) {
      throw new Error(
        `${at}: cannot read kernels/include/${name}.wgsl (${(err as Error).message})`,
      );
    }
    if (new RegExp(INCLUDE.source, "m").test(snippet)) {
      throw new Error(
        `${at}: kernels/include/${name}.wgsl includes another snippet (one level only)`,
      );
    }
    return snippet.replace(/\n$/, "");
  });
}
