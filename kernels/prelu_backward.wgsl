// PReLU backward, one workgroup per channel c:
//   dx = dy where x > 0, a_c·dy otherwise;   da_c = Σ over x ≤ 0 of dy·x
// (the slope gradient is a fixed-order tree reduction: no atomics, same bytes every run).
// Bindings: 0 uniform Params; 1 dy (read, NCHW); 2 x (read, NCHW); 3 slope (read, C);
// 4 dx (write, NCHW); 5 dslope (write, C). `main` reads dy, x, dx as vec4 (HW % 4 == 0,
// hwi = HW/4), `scalar` as f32 (hwi = HW); the entry points alias bindings 1, 2 and 4.
// Grid: one workgroup of WG invocations per channel, c = wid.x + wid.y·gx; each invocation
// walks the channel's items n·hwi + i in steps of WG (dn = WG / hwi, di = WG % hwi).
struct Params { N: u32, C: u32, hwi: u32, dn: u32, di: u32, gx: u32 }
override WG: u32 = 256u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy4: array<vec4f>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dx4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy1: array<f32>;
@group(0) @binding(2) var<storage, read> x1: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx1: array<f32>;
@group(0) @binding(3) var<storage, read> slope: array<f32>;
@group(0) @binding(5) var<storage, read_write> dslope: array<f32>;

var<workgroup> red: array<f32, 256>;

fn reduce_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

struct Cursor { n: u32, i: u32 }
fn first(lid: u32) -> Cursor { return Cursor(lid / p.hwi, lid % p.hwi); }
fn next(k: Cursor) -> Cursor {
  var r = Cursor(k.n + p.dn, k.i + p.di);
  if (r.i >= p.hwi) { r.i -= p.hwi; r.n += 1u; }
  return r;
}
fn at(k: Cursor, c: u32) -> u32 { return (k.n * p.C + c) * p.hwi + k.i; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let a = slope[c];
  var s = vec4f(0.0);
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let i = at(k, c);
    let v = x4[i];
    let g = dy4[i];
    let pos = v > vec4f(0.0);
    dx4[i] = select(a * g, g, pos);
    s += select(g * v, vec4f(0.0), pos);
  }
  let total = reduce_sum(s.x + s.y + s.z + s.w, lid.x);
  if (lid.x == 0u) { dslope[c] = total; }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let a = slope[c];
  var s = 0.0;
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let i = at(k, c);
    let v = x1[i];
    let g = dy1[i];
    dx1[i] = select(a * g, g, v > 0.0);
    s += select(g * v, 0.0, v > 0.0);
  }
  let total = reduce_sum(s, lid.x);
  if (lid.x == 0u) { dslope[c] = total; }
}
