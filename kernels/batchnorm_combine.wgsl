// Batch normalisation, training forward, pass 2 of 3: per channel, merge the (count, mean, M2)
// partials of batchnorm_stats in a fixed order with Chan et al.'s pairwise formula
//   n = nA + nB, δ = μB − μA, μ = μA + δ·nB/n, M2 = M2A + M2B + δ²·nA·nB/n
// then var = M2/m (biased, for normalising), invstd = 1/sqrt(var + eps), and update
//   running_mean = (1 − momentum)·running_mean + momentum·mean
//   running_var  = (1 − momentum)·running_var  + momentum·M2/(m − 1)   (PyTorch semantics).
// It also packs (mean, invstd·γ, β, 0) per channel for batchnorm_forward (one vec4 load per
// item there instead of four scattered scalars; γ = 1, β = 0 when affine is 0).
// Bindings: 0 uniform {C, parts, eps, momentum, affine}; 1 partial (read, vec4 (n, mean, M2, 0),
// `parts` per channel); 2 mean, 3 invstd (write, C); 4 running_mean, 5 running_var
// (read-write, C); 6 gamma, 7 beta (read, C); 8 coef (write, vec4 per channel).
// Grid: ceil(C/64) workgroups of 64, one channel per invocation.
struct Params { C: u32, parts: u32, eps: f32, momentum: f32, affine: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> invstd_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read> gamma: array<f32>;
@group(0) @binding(7) var<storage, read> beta: array<f32>;
@group(0) @binding(8) var<storage, read_write> coef: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  // Means are tracked relative to the first partial's mean k: the increments stay small
  // numbers with full relative precision, however far the channel is from zero.
  var n = 0.0;
  var k = 0.0;
  var rel = 0.0;
  var m2 = 0.0;
  for (var i = 0u; i < p.parts; i++) {
    let b = partial[c * p.parts + i];
    if (b.x > 0.0) {
      if (n == 0.0) { k = b.y; }
      let total = n + b.x;
      let delta = (b.y - k) - rel;
      rel += delta * (b.x / total);
      m2 += b.z + delta * delta * (n * b.x / total);
      n = total;
    }
  }
  let mean = k + rel;
  let invstd = 1.0 / sqrt(m2 / n + p.eps);
  mean_out[c] = mean;
  invstd_out[c] = invstd;
  var g = 1.0;
  var b = 0.0;
  if (p.affine != 0u) { g = gamma[c]; b = beta[c]; }
  coef[c] = vec4f(mean, invstd * g, b, 0.0);
  running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
  running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * m2 / (n - 1.0);
}
