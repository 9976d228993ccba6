// CPU reference of the bench's memory-ceiling probe (kernels/stream_sum.wgsl): lane i sums
// `reads` vec4s of x, interleaved by lane, and writes that sum plus j to `writes` vec4s of y.

export interface StreamShape {
  /** Invocations, and vec4s each reads and writes. */
  lanes: number;
  reads: number;
  writes: number;
}

/**
 * The probe that moves about `readFloats` in and `writeFloats` out: lanes enough for both
 * sides, the larger side's vec4s spread over them. At least 4,096 lanes (64 workgroups keep
 * every core busy), and at most 16 vec4s read per lane: a read-heavy layer (a weight
 * gradient) spreads its reads as widely and writes partial sums, a sixteenth of its reads.
 */
export function streamShape(readFloats: number, writeFloats: number): StreamShape {
  const lanes = Math.max(
    4096,
    Math.floor(Math.min(readFloats, writeFloats) / 4),
    Math.ceil(readFloats / 64),
  );
  const per = (floats: number) => Math.max(1, Math.round(floats / 4 / lanes));
  return { lanes, reads: per(readFloats), writes: per(writeFloats) };
}

export function streamSum(x: ArrayLike<number>, s: StreamShape): Float64Array {
  const { lanes, reads, writes } = s;
  if (x.length !== 4 * lanes * reads) {
    throw new Error(`stream: x has ${x.length} floats, the shape reads ${4 * lanes * reads}`);
  }
  const y = new Float64Array(4 * lanes * writes);
  for (let i = 0; i < lanes; i++) {
    for (let c = 0; c < 4; c++) {
      let sum = 0;
      for (let m = 0; m < reads; m++) sum += x[4 * (i + m * lanes) + c];
      for (let j = 0; j < writes; j++) y[4 * (i + j * lanes) + c] = sum + j;
    }
  }
  return y;
}
