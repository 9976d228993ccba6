// Inverted dropout, forward and backward alike: y = x·scale where the element is kept, else 0
// (exactly 0, even for a non-finite x).
// Element e of step t is kept when hash32(seed, t, e, salt) ≥ threshold (threshold =
// ceil(p·2³²), scale = 1/(1 − p)); hash32 is src/util/random.ts's murmur3-style mix, so the
// mask depends on (seed, step, index, salt) only: the backward pass recomputes it and a
// resumed run draws the same masks. The step is read from a storage word the trainer writes
// before each submit, so the dispatch is built once.
// Bindings: 0 uniform {items, gx, seed, salt, threshold, scale}; 1 step (read, u32[1]);
// 2 x (read); 3 y (write), `items` vec4s (`main`, n % 4 == 0) or floats (`scalar`).
// Grid: 2-D, 64 invocations per workgroup, one item each; item = (wid.x + wid.y·gx)·64 + lid.
struct Params { items: u32, gx: u32, seed: u32, salt: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: array<u32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> y1: array<f32>;

fn hash32(a: u32, b: u32, c: u32, d: u32) -> u32 {
  var h = (a ^ 0x9e3779b9u) * 0x85ebca6bu;
  h = (h ^ (h >> 13u) ^ b) * 0xc2b2ae35u;
  h = (h ^ (h >> 16u) ^ c) * 0x85ebca6bu;
  h = (h ^ (h >> 13u) ^ d) * 0xc2b2ae35u;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn keep(e: u32) -> bool {
  return hash32(p.seed, step[0], e, p.salt) >= p.threshold;
}

fn item(wid: vec3u, lid: vec3u) -> u32 {
  return (wid.x + wid.y * p.gx) * 64u + lid.x;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) {
    let m = vec4<bool>(keep(4u * e), keep(4u * e + 1u), keep(4u * e + 2u), keep(4u * e + 3u));
    y4[e] = select(vec4f(0.0), x4[e] * p.scale, m);
  }
}

@compute @workgroup_size(64)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let e = item(wid, lid);
  if (e < p.items) { y1[e] = select(0.0, x1[e] * p.scale, keep(e)); }
}
