// PReLU forward with one slope per channel: y = x for x > 0, a_c·x otherwise.
// Bindings: 0 uniform Params; 1 x (read, NCHW); 2 slope (read, C); 3 y (write, NCHW).
// `main` reads x and y as vec4 (HW % 4 == 0, hwi = HW/4), `scalar` as f32 (hwi = HW); the
// entry points alias bindings 1 and 3.
// Grid: one workgroup of WG invocations per channel (the slope is then uniform and no index
// division is needed), c = wid.x + wid.y·gx; each invocation walks the channel's items
// n·hwi + i in steps of WG (dn = WG / hwi, di = WG % hwi).
struct Params { N: u32, C: u32, hwi: u32, dn: u32, di: u32, gx: u32 }
override WG: u32 = 256u;
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(3) var<storage, read_write> y1: array<f32>;
@group(0) @binding(2) var<storage, read> slope: array<f32>;

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
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let i = at(k, c);
    let v = x4[i];
    y4[i] = select(a * v, v, v > vec4f(0.0));
  }
}

@compute @workgroup_size(WG)
fn scalar(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x + wid.y * p.gx;
  if (c >= p.C) { return; }
  let a = slope[c];
  for (var k = first(lid.x); k.n < p.N; k = next(k)) {
    let i = at(k, c);
    let v = x1[i];
    y1[i] = select(a * v, v, v > 0.0);
  }
}
