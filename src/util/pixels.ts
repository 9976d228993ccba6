// Face pixels (u8 RGB, HWC) to network input (f32, NCHW), normalised as arcface_torch does:
// (x/255 − 0.5)/0.5. Training and inference share this so they can never disagree.

/** Writes one S×S face into `out` at image slot `n`, mirrored left-right when `flip`. */
export function faceToInput(hwc: Uint8Array, S: number, out: Float32Array, n: number, flip: boolean): void {
  const plane = S * S, base = n * 3 * plane;
  for (let y = 0; y < S; y++) {
    const row = y * S;
    for (let x = 0; x < S; x++) {
      const src = (row + (flip ? S - 1 - x : x)) * 3;
      const dst = base + row + x;
      out[dst] = (hwc[src] / 255 - 0.5) / 0.5;
      out[dst + plane] = (hwc[src + 1] / 255 - 0.5) / 0.5;
      out[dst + 2 * plane] = (hwc[src + 2] / 255 - 0.5) / 0.5;
    }
  }
}
