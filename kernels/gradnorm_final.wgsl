// Gradient norm, final pass, and the optimizer's step decision (one workgroup):
//   clip_norm = sqrt(Σ clipped partials), grad_norm = sqrt(Σ all partials)
//   scale = min(1, max_norm / (clip_norm + 1e-6)) when clipping (torch clip_grad_norm_), else 1
//   applied = loss and grad_norm finite; when not, the update kernels skip the step and the
//   first bad step is recorded (sticky until the host resets it) and the skip counter grows.
// Partials are summed in a fixed order (strided, then a tree): deterministic.
// Status words (u32): 0 grad_norm (f32 bits), 1 clip_norm (f32 bits), 2 scale (f32 bits),
// 3 applied (0/1), 4 first bad step (0xffffffff: none), 5 skipped steps, 6 last step seen.
// Control words (u32, written by the host before each submit): 0 learning rate (f32 bits), 1 step.
// Bindings: 0 uniform {slots, clip_enabled, max_norm}; 1 partial (read, 2·slots);
// 2 loss (read, element 0: the step's loss); 3 control (read, u32[4]); 4 status (read-write, u32[8]).
// Grid: (1) workgroup of 256 invocations.
struct Params { slots: u32, clip_enabled: u32, max_norm: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read> loss: array<f32>;
@group(0) @binding(3) var<storage, read> control: array<u32>;
@group(0) @binding(4) var<storage, read_write> status: array<u32>;

var<workgroup> red: array<vec2f, 256>;

fn finite(x: f32) -> bool {
  // Exponent bits all ones: inf or NaN (tested on the bits, which no float-compare shortcut can skip).
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u) {
  var s = vec2f(0.0);
  for (var i = lid.x; i < p.slots; i += 256u) { s += vec2f(partial[2u * i], partial[2u * i + 1u]); }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let sums = red[0];
    let clip_norm = sqrt(sums.x);
    let grad_norm = sqrt(sums.x + sums.y);
    var scale = 1.0;
    if (p.clip_enabled != 0u) { scale = min(1.0, p.max_norm / (clip_norm + 1e-6)); }
    let ok = finite(loss[0]) && finite(grad_norm);
    let step = control[1];
    status[0] = bitcast<u32>(grad_norm);
    status[1] = bitcast<u32>(clip_norm);
    status[2] = bitcast<u32>(scale);
    status[3] = select(0u, 1u, ok);
    if (!ok) {
      if (status[4] == 0xffffffffu) { status[4] = step; }
      status[5] = status[5] + 1u;
    }
    status[6] = step;
  }
}
