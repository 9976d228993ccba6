// The head's training statistics, written into a small stats tensor that is read back only
// when a step is logged (indices as STATS in src/train/heads.ts):
//   rows:      stats[0] = Σ_i loss_i / N; over rows with a target: stats[1] = mean θ_y in
//              degrees, stats[2] = mean non-target cosine Σ/(rows·(K − 1)), stats[4] = mean
//              cos θ_y (NaN in 1, 2, 4 for the un-normalised softmax head: no angles there).
//   grad_norm: stats[3] = ‖dL/dx‖_F over the N·D feature gradient.
// One workgroup of 256 invocations each; strided per-invocation sums then a fixed-order tree:
// deterministic. The other stats entries are left as they are.
// Bindings: rows: 0 uniform; 1 rowstat (read, N·8 from head_loss `rows`); 2 stats (read-write, 8)
//           grad_norm: 0 uniform; 1 dx (read, count floats); 2 stats (read-write, 8)
// Grid: (1) workgroup.
struct Params { N: u32, K: u32, count: u32, normalised: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rowstat: array<f32>;
@group(0) @binding(1) var<storage, read> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

const DEG = 57.29577951308232;

var<workgroup> red_a: array<vec4f, 256>;
var<workgroup> red_b: array<f32, 256>;

@compute @workgroup_size(256)
fn rows(@builtin(local_invocation_id) lid: vec3u) {
  // (Σ loss, Σ θ_y°, Σ non-target cos, Σ cos_y), Σ has
  var a = vec4f(0.0);
  var has = 0.0;
  for (var i = lid.x; i < p.N; i += 256u) {
    let o = i * 8u;
    a.x += rowstat[o + 1u];
    if (rowstat[o + 4u] > 0.0) {
      let c = rowstat[o + 2u];
      a.y += acos(clamp(c, -1.0, 1.0)) * DEG;
      a.z += rowstat[o + 3u];
      a.w += c;
      has += 1.0;
    }
  }
  red_a[lid.x] = a;
  red_b[lid.x] = has;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      red_a[lid.x] += red_a[lid.x + s];
      red_b[lid.x] += red_b[lid.x + s];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let t = red_a[0];
    let rows_with_target = red_b[0];
    let nan = bitcast<f32>(0x7fc00000u);
    let angles = p.normalised != 0u;
    stats[0] = t.x / f32(p.N);
    stats[1] = select(nan, t.y / rows_with_target, angles);
    stats[2] = select(nan, t.z / (rows_with_target * f32(p.K - 1u)), angles);
    stats[4] = select(nan, t.w / rows_with_target, angles);
  }
}

@compute @workgroup_size(256)
fn grad_norm(@builtin(local_invocation_id) lid: vec3u) {
  var s = 0.0;
  for (var i = lid.x; i < p.count; i += 256u) { s += dx[i] * dx[i]; }
  red_b[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red_b[lid.x] += red_b[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { stats[3] = sqrt(red_b[0]); }
}
