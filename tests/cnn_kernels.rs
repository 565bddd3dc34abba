//! The hand-written CPU layers of the map CNN against central finite differences of f64
//! reference implementations, the whole CPU network against candle (forward in training
//! and evaluation mode, gradient against autograd, running statistics), determinism, and
//! errors for bad input. Small shapes, so the file runs in seconds.
//!
//! Tolerances. The kernels compute in f32. A sum of `N` products accumulated in f32 is off
//! by at most ~`N * 2^-24` times the sum of the terms' magnitudes, and in practice by
//! ~`sqrt(N) * 2^-24` of it; with `N` <= a few thousand here, `1e-5` of the sum of
//! magnitudes (`mag` below) is a bound the kernels must meet and a wrong index or a missing
//! term (at least one whole term, typically ~1/N of `mag`, i.e. >= 1e-3) cannot.

// Index loops spell out the reference formulas.
#![allow(clippy::needless_range_loop)]

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use spinflip::cnn::kernels::batchnorm::{self, BnCache};
use spinflip::cnn::kernels::corr::{self, Corr};
use spinflip::cnn::kernels::dense::{matmul, mse, MatRef};
use spinflip::cnn::kernels::dropout;
use spinflip::cnn::kernels::pool::{self, Planes};
use spinflip::cnn::model_file::{
    load_model, model_paths, save_model, CnnModel, CnnSidecar, InputNorm,
};
use spinflip::cnn::{
    CnnConfig, CnnNetwork, ConvSpec, CpuCnn, DenseSpec, Mode, Padding, ParamLayout,
};
use spinflip::SpinflipError;

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

fn uniform(r: &mut Xoshiro256PlusPlus, n: usize, a: f32) -> Vec<f32> {
    (0..n).map(|_| r.random_range(-a..a)).collect()
}

/// A geometry with `ow` rounded to 16 and a little slack in the strides.
fn geom(c: usize, f: usize, kh: usize, kw: usize, oh: usize, ow_true: usize) -> Corr {
    let ow = ow_true.div_ceil(16) * 16;
    let in_rs = ow + kw + 2;
    Corr {
        c,
        f,
        kh,
        kw,
        oh,
        ow,
        in_rs,
        in_ps: (oh + kh) * in_rs,
        out_rs: ow + 3,
        out_ps: (oh + 1) * (ow + 3),
        rows: (0, oh + kh - 1),
    }
}

/// f64 reference: `out[f][y][x] = sum w[f][c][ky][kx] in[c][y+ky][x+kx]` for `x < ow`.
fn corr_ref(g: &Corr, inp: &[f64], w: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; g.f * g.out_ps];
    for o in 0..g.f {
        for y in 0..g.oh {
            for x in 0..g.ow {
                let mut s = 0.0;
                for c in 0..g.c {
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            s += w[((o * g.c + c) * g.kh + ky) * g.kw + kx]
                                * inp[c * g.in_ps + (y + ky) * g.in_rs + x + kx];
                        }
                    }
                }
                out[o * g.out_ps + y * g.out_rs + x] = s;
            }
        }
    }
    out
}

fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

#[test]
fn correlation_forward_and_gradients_against_f64_finite_differences() {
    let mut r = rng(1);
    for &(c, f, kh, kw, oh, ow) in &[
        (1, 8, 10, 10, 3, 20),
        (3, 16, 3, 5, 4, 33),
        (5, 8, 4, 3, 2, 17),
    ] {
        let g = geom(c, f, kh, kw, oh, ow);
        let inp = uniform(&mut r, g.c * g.in_ps + 64, 1.0);
        let w = uniform(&mut r, f * c * kh * kw, 1.0);
        let bias = uniform(&mut r, f, 1.0);
        let mut wpk = Vec::new();
        assert_eq!(corr::pack_forward(&w, f, c, kh, kw, &mut wpk), f);
        let mut out = vec![0.0f32; f * g.out_ps];
        corr::forward(&g, &inp, &wpk, &bias, &mut out);
        let mut out_p = out.clone();
        corr::portable_forward(&g, &inp, &wpk, &bias, &mut out_p);
        let reference = corr_ref(&g, &to64(&inp), &to64(&w));
        let mag = (c * kh * kw) as f64; // |w|, |x| <= 1
        for o in 0..f {
            for y in 0..oh {
                for x in 0..g.ow {
                    let i = o * g.out_ps + y * g.out_rs + x;
                    let want = reference[i] + f64::from(bias[o]);
                    assert!(
                        (f64::from(out[i]) - want).abs() <= 1e-5 * mag,
                        "forward {i}"
                    );
                    assert!(
                        (f64::from(out_p[i]) - want).abs() <= 1e-5 * mag,
                        "portable {i}"
                    );
                }
            }
        }

        // L = sum r * out: dL/dw and dL/din by central differences of the f64 reference
        // (linear, so exact to rounding), against the kernels.
        let rr: Vec<f32> = {
            let mut v = vec![0.0f32; f * g.out_ps];
            for o in 0..f {
                for y in 0..oh {
                    for x in 0..g.ow {
                        v[o * g.out_ps + y * g.out_rs + x] = r.random_range(-1.0..1.0);
                    }
                }
            }
            v
        };
        let loss = |inp: &[f64], w: &[f64]| -> f64 {
            corr_ref(&g, inp, w)
                .iter()
                .zip(&rr)
                .map(|(a, b)| a * f64::from(*b))
                .sum()
        };
        let mut dw = vec![0.0f32; f * c * kh * kw];
        corr::weight_grad(&g, &inp, &rr, &mut dw);
        let mut dw_p = vec![0.0f32; dw.len()];
        corr::portable_weight_grad(&g, &inp, &rr, &mut dw_p);
        let (in64, w64) = (to64(&inp), to64(&w));
        let h = 1e-3;
        let mag = (oh * g.ow) as f64;
        for j in (0..w.len()).step_by(7) {
            let (mut wp, mut wm) = (w64.clone(), w64.clone());
            wp[j] += h;
            wm[j] -= h;
            let fd = (loss(&in64, &wp) - loss(&in64, &wm)) / (2.0 * h);
            assert!(
                (f64::from(dw[j]) - fd).abs() <= 1e-5 * mag,
                "dw[{j}] {} vs {fd}",
                dw[j]
            );
            assert!(
                (f64::from(dw_p[j]) - fd).abs() <= 1e-5 * mag,
                "portable dw[{j}]"
            );
        }

        // Point-wise weight gradient on a sparse output gradient equals the dense one.
        let mut sparse = vec![0.0f32; rr.len()];
        let mut dw_d = vec![0.0f32; dw.len()];
        let mut dw_s = vec![0.0f32; dw.len()];
        let mut dw_sp = vec![0.0f32; dw.len()];
        for o in 0..f {
            let mut pts = Vec::new();
            for y in 0..oh {
                for x in (0..ow).step_by(3) {
                    let v = r.random_range(-1.0f32..1.0);
                    sparse[o * g.out_ps + y * g.out_rs + x] = v;
                    pts.push(((y * g.in_rs + x) as u32, v));
                }
            }
            corr::weight_grad_points(&g, &inp, o, &pts, &mut dw_s);
            corr::portable_weight_grad_points(&g, &inp, o, &pts, &mut dw_sp);
        }
        corr::weight_grad(&g, &inp, &sparse, &mut dw_d);
        for j in 0..dw.len() {
            assert!(
                (dw_d[j] - dw_s[j]).abs() as f64 <= 1e-5 * mag,
                "points dw[{j}]"
            );
            assert!(
                (dw_d[j] - dw_sp[j]).abs() as f64 <= 1e-5 * mag,
                "portable points dw[{j}]"
            );
        }

        // Input gradient: the correlation of the zero-padded output gradient with the
        // flipped, channel-swapped kernel (as the CPU network computes it).
        let (ih, iw) = (oh + kh - 1, g.ow + kw - 1);
        let wip = iw.div_ceil(16) * 16;
        let g_rs = wip + kw - 1;
        let g_ps = (ih + kh - 1) * g_rs;
        let mut gpad = vec![0.0f32; f * g_ps];
        for o in 0..f {
            for y in 0..oh {
                for x in 0..g.ow {
                    gpad[o * g_ps + (y + kh - 1) * g_rs + x + kw - 1] =
                        rr[o * g.out_ps + y * g.out_rs + x];
                }
            }
        }
        let cp = c.div_ceil(8) * 8;
        let bwd = Corr {
            c: f,
            f: cp,
            kh,
            kw,
            oh: ih,
            ow: wip,
            in_rs: g_rs,
            in_ps: g_ps,
            out_rs: wip,
            out_ps: ih * wip,
            // Only the output gradient's rows hold data: the zero padding is skipped.
            rows: (kh - 1, kh - 1 + oh),
        };
        let (mut flip, mut fpk) = (Vec::new(), Vec::new());
        corr::flip_swap(&w, f, c, kh, kw, &mut flip);
        corr::pack_forward(&flip, c, f, kh, kw, &mut fpk);
        let mut din = vec![0.0f32; cp * ih * wip];
        corr::forward(&bwd, &gpad, &fpk, &vec![0.0; cp], &mut din);

        let mag = (f * kh * kw) as f64;
        for ci in 0..c {
            for y in (0..ih).step_by(2) {
                for x in (0..iw).step_by(5) {
                    let k = ci * g.in_ps + y * g.in_rs + x;
                    let (mut ip, mut im) = (in64.clone(), in64.clone());
                    ip[k] += h;
                    im[k] -= h;
                    let fd = (loss(&ip, &w64) - loss(&im, &w64)) / (2.0 * h);
                    let got = f64::from(din[(ci * ih + y) * wip + x]);
                    assert!(
                        (got - fd).abs() <= 1e-5 * mag,
                        "din[{ci}][{y}][{x}] {got} vs {fd}"
                    );
                }
            }
        }
    }
}

/// f64 reference of ReLU + max-pool by `p` over one `h x w` plane.
fn relu_pool_ref(x: &[f64], h: usize, w: usize, p: usize) -> Vec<f64> {
    let (hp, wp) = (h / p, w / p);
    let mut out = vec![0.0; hp * wp];
    for y in 0..hp {
        for xx in 0..wp {
            let mut m = f64::NEG_INFINITY;
            for dy in 0..p {
                for dx in 0..p {
                    m = m.max(x[(y * p + dy) * w + xx * p + dx]);
                }
            }
            out[y * wp + xx] = m.max(0.0);
        }
    }
    out
}

#[test]
fn relu_pool_backward_against_f64_finite_differences() {
    let mut r = rng(2);
    for &(h, w, p) in &[(7, 9, 2), (9, 10, 3), (4, 5, 1)] {
        let f = 2;
        let x = uniform(&mut r, f * h * w, 1.0);
        let (hp, wp) = (h / p, w / p);
        let mut out = vec![0.0f32; f * hp * wp];
        let mut idx = vec![0u8; f * hp * wp];
        let src = Planes { rs: w, ps: h * w };
        pool::forward(&x, src, f, hp, wp, p, &mut out, &mut idx);
        let gp = uniform(&mut r, f * hp * wp, 1.0);
        let mut gx = vec![0.0f32; f * h * w];
        let mut db = vec![0.0f32; f];
        let gsrc = Planes {
            rs: wp,
            ps: hp * wp,
        };
        pool::backward(
            &gp,
            gsrc,
            &out,
            &idx,
            f,
            hp,
            wp,
            p,
            &mut gx,
            src,
            Some(&mut db),
        );
        let x64 = to64(&x);
        let loss = |x: &[f64]| -> f64 {
            (0..f)
                .map(|c| {
                    relu_pool_ref(&x[c * h * w..(c + 1) * h * w], h, w, p)
                        .iter()
                        .zip(&gp[c * hp * wp..])
                        .map(|(a, b)| a * f64::from(*b))
                        .sum::<f64>()
                })
                .sum()
        };
        for c in 0..f {
            let want = relu_pool_ref(&x64[c * h * w..(c + 1) * h * w], h, w, p);
            for k in 0..hp * wp {
                // Copies of f32 values: exact.
                assert_eq!(f64::from(out[c * hp * wp + k]), want[k]);
            }
        }
        let hh = 1e-6;
        for k in 0..x.len() {
            let (mut a, mut b) = (x64.clone(), x64.clone());
            a[k] += hh;
            b[k] -= hh;
            let fd = (loss(&a) - loss(&b)) / (2.0 * hh);
            // The gradient is a copied value or zero; FD of a piecewise-linear function away
            // from kinks (random inputs) is exact to ~1e-9.
            assert!(
                (f64::from(gx[k]) - fd).abs() < 1e-7,
                "x[{k}]: {} vs {fd}",
                gx[k]
            );
        }
        // Bias gradient: the sum of the gradients that passed the ReLU.
        for c in 0..f {
            let s: f32 = (0..hp * wp)
                .filter(|&k| out[c * hp * wp + k] > 0.0)
                .map(|k| gp[c * hp * wp + k])
                .sum();
            assert!((db[c] - s).abs() < 1e-6);
            let mut pts = Vec::new();
            let s2 = pool::gather_points(&gp, gsrc, &out, &idx, c, hp, wp, p, w, &mut pts);
            assert!((s2 - s).abs() < 1e-6);
            for (off, v) in pts {
                assert_eq!(gx[c * h * w + off as usize], v);
            }
        }
    }
}

#[test]
fn batch_norm_against_f64_finite_differences_and_running_stats() {
    let mut r = rng(3);
    let (n, u) = (6, 5);
    let x = uniform(&mut r, n * u, 2.0);
    let gamma = uniform(&mut r, u, 1.5);
    let beta = uniform(&mut r, u, 1.0);
    let dy = uniform(&mut r, n * u, 1.0);
    let (eps, mom) = (1e-3, 0.1);
    let mut rm = vec![0.5f32; u];
    let mut rv = vec![2.0f32; u];
    let mut cache = BnCache::default();
    let mut y = vec![0.0f32; n * u];
    batchnorm::forward_train(
        &x, n, u, &gamma, &beta, eps, mom, &mut rm, &mut rv, &mut cache, &mut y,
    );
    let fwd = |x: &[f64], g: &[f64], b: &[f64]| -> Vec<f64> {
        let mut y = vec![0.0; n * u];
        for j in 0..u {
            let m = (0..n).map(|i| x[i * u + j]).sum::<f64>() / n as f64;
            let v = (0..n).map(|i| (x[i * u + j] - m).powi(2)).sum::<f64>() / n as f64;
            for i in 0..n {
                y[i * u + j] = g[j] * (x[i * u + j] - m) / (v + eps).sqrt() + b[j];
            }
        }
        y
    };
    let (x64, g64, b64) = (to64(&x), to64(&gamma), to64(&beta));
    let want = fwd(&x64, &g64, &b64);
    for k in 0..n * u {
        assert!((f64::from(y[k]) - want[k]).abs() < 1e-5, "y[{k}]");
    }
    // Running statistics (candle's convention: unbiased variance, weight `mom`).
    for j in 0..u {
        let m = (0..n).map(|i| x64[i * u + j]).sum::<f64>() / n as f64;
        let v = (0..n).map(|i| (x64[i * u + j] - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!((f64::from(rm[j]) - (0.9 * 0.5 + 0.1 * m)).abs() < 1e-6);
        assert!((f64::from(rv[j]) - (0.9 * 2.0 + 0.1 * v)).abs() < 1e-5);
    }
    let mut dx = vec![0.0f32; n * u];
    let (mut dg, mut db) = (vec![0.0f32; u], vec![0.0f32; u]);
    batchnorm::backward(&dy, n, u, &gamma, &cache, &mut dx, &mut dg, &mut db);
    let loss = |x: &[f64], g: &[f64], b: &[f64]| -> f64 {
        fwd(x, g, b)
            .iter()
            .zip(&dy)
            .map(|(a, d)| a * f64::from(*d))
            .sum()
    };
    let h = 1e-5;
    let fd = |which: usize, k: usize| -> f64 {
        let mut v = [x64.clone(), g64.clone(), b64.clone()];
        v[which][k] += h;
        let lp = loss(&v[0], &v[1], &v[2]);
        v[which][k] -= 2.0 * h;
        let lm = loss(&v[0], &v[1], &v[2]);
        (lp - lm) / (2.0 * h)
    };
    // dx involves cancelling sums of n terms of size |gamma dy| / std ~ 1: f32 error ~1e-6;
    // FD truncation with h = 1e-5 in f64 ~1e-9.
    for k in 0..n * u {
        assert!((f64::from(dx[k]) - fd(0, k)).abs() < 2e-5, "dx[{k}]");
    }
    for j in 0..u {
        assert!((f64::from(dg[j]) - fd(1, j)).abs() < 2e-5, "dgamma[{j}]");
        assert!((f64::from(db[j]) - fd(2, j)).abs() < 2e-5, "dbeta[{j}]");
    }
    // Evaluation mode uses the running statistics.
    batchnorm::forward_eval(&x, n, u, &gamma, &beta, eps, &rm, &rv, &mut y);
    for i in 0..n {
        for j in 0..u {
            let want = gamma[j] as f64 * (x64[i * u + j] - rm[j] as f64)
                / (rv[j] as f64 + eps).sqrt()
                + beta[j] as f64;
            assert!((f64::from(y[i * u + j]) - want).abs() < 1e-5);
        }
    }
}

#[test]
fn dense_products_and_mse_gradient() {
    let mut r = rng(4);
    let (n, i, o) = (5, 37, 6);
    let x = uniform(&mut r, n * i, 1.0);
    let w = uniform(&mut r, o * i, 1.0);
    let mut z = vec![0.0f32; n * o];
    matmul(
        &mut z,
        o,
        MatRef::rows(&x, n, i),
        MatRef::rows(&w, o, i).t(),
        false,
    );
    for a in 0..n {
        for b in 0..o {
            let s: f64 = (0..i)
                .map(|k| f64::from(x[a * i + k]) * f64::from(w[b * i + k]))
                .sum();
            assert!((f64::from(z[a * o + b]) - s).abs() <= 1e-5 * i as f64);
        }
    }
    // Accumulate adds.
    let z0 = z.clone();
    matmul(
        &mut z,
        o,
        MatRef::rows(&x, n, i),
        MatRef::rows(&w, o, i).t(),
        true,
    );
    assert!(z
        .iter()
        .zip(&z0)
        .all(|(a, b)| (a - 2.0 * b).abs() <= 1e-5 * i as f32));
    // MSE gradient against central differences (a quadratic: exact up to rounding).
    let t = uniform(&mut r, n * o, 1.0);
    let mut dy = vec![0.0f32; n * o];
    let l0 = mse(&z0, &t, &mut dy);
    let h = 1e-3f32;
    let mut tmp = vec![0.0f32; n * o];
    for k in 0..n * o {
        let (mut a, mut b) = (z0.clone(), z0.clone());
        a[k] += h;
        b[k] -= h;
        let fd = (mse(&a, &t, &mut tmp) - mse(&b, &t, &mut tmp)) / (2.0 * f64::from(h));
        // f32 perturbation of values ~3: relative rounding 1e-7 / h ~ 1e-4 of the step.
        assert!((f64::from(dy[k]) - fd).abs() < 1e-4, "dy[{k}]");
    }
    assert!(l0 > 0.0);
}

#[test]
fn dropout_mask_is_seeded_and_scaled() {
    let (d, p) = (20_000, 0.2f32);
    let mut a = vec![0.0f32; d];
    let mut b = vec![0.0f32; d];
    dropout::mask(11, 3, p, &mut a);
    dropout::mask(11, 3, p, &mut b);
    assert_eq!(a, b, "same seed and sample, same mask");
    dropout::mask(12, 3, p, &mut b);
    assert_ne!(a, b);
    dropout::mask(11, 4, p, &mut b);
    assert_ne!(a, b);
    let keep = 1.0 / (1.0 - p);
    assert!(
        a.iter().all(|&m| m == 0.0 || m == keep),
        "entries are 0 or 1/(1-p)"
    );
    let dropped = a.iter().filter(|&&m| m == 0.0).count() as f64 / d as f64;
    // Binomial standard error sqrt(p(1-p)/d) = 0.0028; allow 4 of them.
    assert!((dropped - 0.2).abs() < 0.012, "{dropped}");
    dropout::mask(11, 3, 0.0, &mut b);
    assert!(b.iter().all(|&m| m == 1.0));
}

/// A small architecture that exercises everything: two blocks with non-square kernels,
/// 'same' padding with even and odd kernels, odd sizes that pooling floors, batch norm,
/// dropout.
fn small_config(padding: Padding) -> CnnConfig {
    let conv = |filters, kernel, pool| ConvSpec {
        filters,
        kernel,
        padding,
        pool,
    };
    CnnConfig {
        height: 13,
        width: 41,
        conv: vec![conv(3, [4, 5], 2), conv(5, [3, 2], 2)],
        dropout: 0.3,
        dense: vec![
            DenseSpec {
                units: 7,
                batch_norm: true,
            },
            DenseSpec {
                units: 5,
                batch_norm: false,
            },
        ],
        n_outputs: 4,
        bn_momentum: 0.1,
        bn_eps: 1e-3,
    }
}

/// Parameters with every bias and batch-norm value away from its initial constant.
fn params_for(cfg: &CnnConfig, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let layout = ParamLayout::new(cfg).unwrap();
    let (mut p, mut b) = layout.init(seed);
    let mut r = rng(seed + 100);
    for t in &layout.params {
        if t.name.ends_with("bias") || t.name.starts_with("bn.") {
            p[t.range()]
                .iter_mut()
                .for_each(|v| *v += r.random_range(-0.3..0.3));
        }
    }
    for t in &layout.buffers {
        b[t.range()]
            .iter_mut()
            .for_each(|v| *v += r.random_range(0.0..0.5));
    }
    (p, b)
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn cpu_network_equals_candle_forward_gradient_and_running_stats() {
    let dev = Device::Cpu;
    for padding in [Padding::Same, Padding::Valid] {
        let cfg = small_config(padding);
        cfg.validate().unwrap();
        let (params, buffers) = params_for(&cfg, 5);
        let n = 6;
        let px = cfg.height * cfg.width;
        let mut r = rng(6);
        let x = uniform(&mut r, n * px, 1.0);
        let t: Vec<f32> = (0..n * 4).map(|_| r.random()).collect();

        let mut cpu = CpuCnn::new(&cfg).unwrap();
        cpu.set_buffers(&buffers).unwrap();
        let net = CnnNetwork::from_flat(&cfg, &params, &buffers, &dev).unwrap();
        assert_eq!(net.to_flat().unwrap(), (params.clone(), buffers.clone()));
        let xt = Tensor::from_slice(&x, (n, cfg.height, cfg.width), &dev).unwrap();
        let tt = Tensor::from_slice(&t, (n, 4), &dev).unwrap();

        // Evaluation mode (running statistics, no dropout).
        let mut out = vec![0.0f32; n * 4];
        cpu.predict(&params, &x, &mut out).unwrap();
        let want = net
            .forward_mode(&xt, Mode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        // Outputs ~1 after sums of <= a few hundred f32 products: 1e-5 relative is ~100 ulp.
        let scale = max_abs(&want).max(1.0);
        for k in 0..n * 4 {
            assert!(
                (out[k] - want[k]).abs() <= 1e-5 * scale,
                "{padding:?} eval out[{k}]: {} vs {}",
                out[k],
                want[k]
            );
        }

        // Training mode with dropout (same seeded mask on both paths): loss and every
        // gradient against candle's autograd.
        let seed = 42;
        let mut grad = vec![0.0f32; params.len()];
        let loss = cpu
            .forward_backward(&params, &x, &t, seed, &mut grad)
            .unwrap();
        let closs = net.mse(&xt, &tt, Mode::Train { seed }).unwrap();
        let cl = closs.to_scalar::<f32>().unwrap();
        assert!(
            (loss - cl).abs() <= 1e-5 * cl.max(1.0),
            "{padding:?} loss {loss} vs {cl}"
        );
        let grads = closs.backward().unwrap();
        for (name, var) in net.trainable_vars().unwrap() {
            let spec = cpu.layout().param(&name).unwrap().clone();
            let cg = grads
                .get(var.as_tensor())
                .unwrap_or_else(|| panic!("no candle gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let ours = &grad[spec.range()];
            // Each gradient entry sums up to a few thousand f32 products; against the
            // tensor's largest entry, 1e-4 allows for two f32 summation orders (candle's
            // and ours) and fails on any missing or misplaced term.
            let tol = 1e-4 * max_abs(&cg) + 1e-7;
            for k in 0..cg.len() {
                assert!(
                    (ours[k] - cg[k]).abs() <= tol,
                    "{padding:?} {name}[{k}]: ours {} candle {} (tol {tol})",
                    ours[k],
                    cg[k]
                );
            }
            assert!(
                max_abs(&cg) > 0.0,
                "{name} has a zero gradient: the test would be vacuous"
            );
        }
        // Running statistics updated the same way.
        let (_, cb) = net.to_flat().unwrap();
        for (a, b) in cpu.buffers().iter().zip(&cb) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "running stats {a} vs {b}"
            );
        }
        // And the evaluation outputs after the update still agree.
        cpu.predict(&params, &x, &mut out).unwrap();
        let want = net
            .forward_mode(&xt, Mode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for k in 0..n * 4 {
            assert!((out[k] - want[k]).abs() <= 1e-5 * scale);
        }
    }
}

#[test]
fn gradient_is_deterministic_and_independent_of_threads() {
    let cfg = small_config(Padding::Same);
    let (params, _) = params_for(&cfg, 7);
    let n = 11; // not a multiple of the chunk size
    let px = cfg.height * cfg.width;
    let mut r = rng(8);
    let x = uniform(&mut r, n * px, 1.0);
    let t: Vec<f32> = (0..n * 4).map(|_| r.random()).collect();
    let run = |threads: usize, seed: u64| {
        let mut cpu = CpuCnn::new(&cfg).unwrap().with_threads(threads).unwrap();
        let mut g = vec![0.0f32; params.len()];
        let l = cpu.forward_backward(&params, &x, &t, seed, &mut g).unwrap();
        // Second call reuses the buffers: same numbers.
        let mut g2 = vec![0.0f32; params.len()];
        let l2 = cpu
            .forward_backward(&params, &x, &t, seed, &mut g2)
            .unwrap();
        assert_eq!((l, &g), (l2, &g2));
        (l, g, cpu.buffers().to_vec())
    };
    let a = run(1, 3);
    let b = run(2, 3);
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1, "bit-identical gradient on 1 and 2 threads");
    assert_eq!(a.2, b.2);
    let c = run(2, 4);
    assert_ne!(a.0, c.0, "another dropout seed, another loss");
}

#[test]
fn candle_max_pool2d_gradient_is_still_wrong_so_the_network_avoids_it() {
    // network.rs pools with reshape + max because candle 0.11's max_pool2d backward scales a
    // unique maximum's gradient by 1/k^2. If this starts failing, candle fixed it.
    let dev = Device::Cpu;
    let x = candle_core::Var::from_tensor(
        &Tensor::new(&[[[[1.0f32, 2.0], [3.0, 4.0]]]], &dev).unwrap(),
    )
    .unwrap();
    let g = x
        .as_tensor()
        .max_pool2d(2)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gx = g
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(
        gx,
        vec![0.0, 0.0, 0.0, 0.25],
        "candle's max_pool2d gradient"
    );
    let g = spinflip::cnn::network::max_pool(x.as_tensor(), 2)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gx = g
        .get(x.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(
        gx,
        vec![0.0, 0.0, 0.0, 1.0],
        "reshape + max: the right gradient"
    );
}

#[test]
fn bad_shapes_and_parameters_are_errors() {
    let cfg = small_config(Padding::Same);
    let mut cpu = CpuCnn::new(&cfg).unwrap();
    let params = cpu.init(0);
    let px = cfg.height * cfg.width;
    let mut grad = vec![0.0f32; params.len()];
    let x = vec![0.1f32; 4 * px];
    let t = vec![0.5f32; 4 * 4];
    let cfg_err = |r: Result<f32, SpinflipError>| {
        matches!(
            r,
            Err(SpinflipError::Shape { .. }) | Err(SpinflipError::Config { .. })
        )
    };
    assert!(cfg_err(cpu.forward_backward(
        &params[1..],
        &x,
        &t,
        0,
        &mut grad
    )));
    assert!(cfg_err(cpu.forward_backward(
        &params,
        &x[1..],
        &t,
        0,
        &mut grad
    )));
    assert!(cfg_err(cpu.forward_backward(
        &params,
        &x,
        &t[1..],
        0,
        &mut grad
    )));
    assert!(cfg_err(cpu.forward_backward(
        &params,
        &x,
        &t,
        0,
        &mut grad[1..]
    )));
    assert!(
        cfg_err(cpu.forward_backward(&params, &x[..px], &t[..4], 0, &mut grad)),
        "batch norm needs 2"
    );
    assert!(cfg_err(cpu.forward_backward(
        &params,
        &[],
        &[],
        0,
        &mut grad
    )));
    let mut out = vec![0.0f32; 3];
    assert!(cpu.predict(&params, &x, &mut out).is_err());
    assert!(cpu.set_buffers(&[1.0]).is_err());
    assert!(CpuCnn::new(&cfg).unwrap().with_threads(0).is_err());
    let e = cpu
        .predict(&params, &vec![0.0; 5 * px + 1], &mut [0.0; 20])
        .unwrap_err()
        .to_string();
    assert!(e.contains("13 x 41"), "{e}");

    let mut bad = small_config(Padding::Valid);
    bad.conv[1].kernel = [9, 2];
    assert!(CpuCnn::new(&bad)
        .unwrap_err()
        .to_string()
        .contains("does not fit"));
    let dev = Device::Cpu;
    let (p, b) = ParamLayout::new(&cfg).unwrap().init(0);
    assert!(CnnNetwork::from_flat(&cfg, &p[1..], &b, &dev).is_err());
    let net = CnnNetwork::from_flat(&cfg, &p, &b, &dev).unwrap();
    let wrong = Tensor::zeros(
        (2, cfg.height, cfg.width + 1),
        candle_core::DType::F32,
        &dev,
    )
    .unwrap();
    assert!(net.forward_mode(&wrong, Mode::Eval).is_err());
}

#[test]
fn model_file_round_trip_and_validation() {
    let dir = std::env::temp_dir().join(format!("spinflip-cnn-model-{}", std::process::id()));
    let cfg = small_config(Padding::Same);
    let (params, buffers) = params_for(&cfg, 9);
    let sidecar = CnnSidecar::new(
        cfg.clone(),
        InputNorm {
            mean: 0.0,
            std: 20.0,
        },
        vec![10.0, 4.0, 38.0, 0.1],
        vec![250.0, 5.3, 42.0, 1.5],
    );
    let model = CnnModel {
        sidecar,
        params,
        buffers,
    };
    let path = dir.join("m");
    let (wp, sp) = save_model(&path, &model).unwrap();
    assert_eq!((wp.clone(), sp.clone()), model_paths(&path));
    let back = load_model(&path).unwrap();
    // The loaded model predicts as the saved weights do, on both paths.
    let x = uniform(&mut rng(10), 2 * 13 * 41, 1.0);
    let mut out = vec![0.0f32; 8];
    back.cpu_network()
        .unwrap()
        .predict(&back.params, &x, &mut out)
        .unwrap();
    let net = back.candle_network(&Device::Cpu).unwrap();
    let xt = Tensor::from_slice(&x, (2, 13, 41), &Device::Cpu).unwrap();
    let want = net
        .forward_mode(&xt, Mode::Eval)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    for k in 0..8 {
        assert!((out[k] - want[k]).abs() <= 1e-5 * want[k].abs().max(1.0));
    }
    assert_eq!(back.params, model.params);
    assert_eq!(back.buffers, model.buffers);
    assert_eq!(back.sidecar.targets, model.sidecar.targets);
    assert!(back.check_geometry(13, 41, "data.npz").is_ok());
    let e = back
        .check_geometry(32, 787, "data.npz")
        .unwrap_err()
        .to_string();
    assert!(e.contains("32 x 787") && e.contains("13 x 41"), "{e}");
    // Target normalisation round trip.
    let phys = [100.0, 4.7, 40.0, 0.5];
    let mut y = [0.0f32; 4];
    back.sidecar.targets.normalise(&phys, &mut y);
    let again = back.sidecar.targets.denormalise(&y);
    assert!(phys
        .iter()
        .zip(&again)
        .all(|(a, b)| (a - b).abs() < 1e-4 * a.abs()));

    // A sidecar whose geometry disagrees with its architecture.
    let text = std::fs::read_to_string(&sp).unwrap();
    std::fs::write(&sp, text.replace("\"n_los\": 41", "\"n_los\": 40")).unwrap();
    let e = load_model(&path).unwrap_err().to_string();
    assert!(e.contains("geometry"), "{e}");
    // Weights from another model: hash mismatch.
    std::fs::write(&sp, &text).unwrap();
    let mut other = model.clone();
    other.params[0] += 1.0;
    save_model(&dir.join("other"), &other).unwrap();
    std::fs::copy(dir.join("other.safetensors"), &wp).unwrap();
    let e = load_model(&path).unwrap_err().to_string();
    assert!(e.contains("hash"), "{e}");
    // Truncated weights (hash fixed up so the parse is what fails).
    save_model(&path, &model).unwrap();
    let bytes = std::fs::read(&wp).unwrap();
    std::fs::write(&wp, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        load_model(&path),
        Err(SpinflipError::ModelFile { .. })
    ));
    // Bad ranges are refused on save.
    let mut bad = model.clone();
    bad.sidecar.targets.min[0] = 300.0;
    assert!(save_model(&dir.join("bad"), &bad)
        .unwrap_err()
        .to_string()
        .contains("zeta"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_report_runs_on_a_small_network() {
    use spinflip::cnn::bench::{bench_report, BenchOptions};
    let opts = BenchOptions {
        config: small_config(Padding::Same),
        batch: 4,
        budget_s: 0.01,
        candle: true,
    };
    let r = bench_report(&opts).unwrap();
    assert!(r.contains("x bound") && r.contains("candle"), "{r}");
    assert_eq!(r.lines().count(), 9, "{r}");
}

/// The numbers for the report: `cargo test --release --test cnn_kernels -- --ignored
/// --nocapture` (about a minute; candle's backward on two 32 x 787 slices takes seconds).
#[test]
#[ignore]
fn print_bench_report_for_gillet_on_32_by_787() {
    use spinflip::cnn::bench::{bench_report, BenchOptions};
    for padding in [Padding::Same, Padding::Valid] {
        let opts = BenchOptions {
            config: CnnConfig::gillet(32, 787).with_padding(padding),
            candle: true,
            ..BenchOptions::default()
        };
        println!("{}", bench_report(&opts).unwrap());
    }
}

/// Files written by NumPy 2 (`np.savez`) read as written: run with the files made by the
/// snippet in the body (not part of CI: NumPy is not a dependency).
#[test]
#[ignore]
fn reads_numpy_written_slice_files() {
    // import numpy as np; rng = np.random.default_rng(0)
    // s = (rng.standard_normal((3, 2, 5, 7)) * 10).astype(np.float16)
    // p = rng.uniform(size=(3, 4))
    // np.savez("/tmp/slices_f16.npz", slices=s, params=p)
    // np.savez("/tmp/slices_f32.npz", slices=s.astype(np.float32), params=p.astype(np.float32))
    // np.savez("/tmp/slices_bad.npz", slices=s[0], params=p)
    // np.savez_compressed("/tmp/slices_z.npz", slices=s, params=p)
    // print(float(s[2,1,4,6]), float(s[0,0,0,0]), p[1])
    // -> 13.78125 1.2568359375 [0.76591712 0.91532396 0.12740301 0.07356291]
    use spinflip::cnn::SliceSet;
    use std::path::Path;
    for f in ["/tmp/slices_f16.npz", "/tmp/slices_f32.npz"] {
        let s = SliceSet::load(Path::new(f)).unwrap();
        assert_eq!((s.n, s.k, s.cells, s.n_los, s.n_params), (3, 2, 5, 7, 4));
        let mut x = vec![0.0f32; 35];
        s.slice_into(2, 1, &mut x);
        assert_eq!(x[34], 13.78125);
        s.slice_into(0, 0, &mut x);
        assert_eq!(x[0], 1.256_835_9);
        assert!((s.params_of(1)[0] - 0.76591712).abs() < 1e-7);
    }
    let e = SliceSet::load(Path::new("/tmp/slices_bad.npz"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 dimensions"), "{e}");
    let e = SliceSet::load(Path::new("/tmp/slices_z.npz"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("compressed"), "{e}");
}

#[test]
fn sgd_steps_learn_a_synthetic_mapping() {
    // 800 steps of plain SGD. Slices: white noise of rms `a` plus a line-of-sight sinusoid of amplitude `b`;
    // targets: (a, b, a * b, 0.5), all in [0, 1]. A working gradient must bring the
    // validation loss well below that of predicting the targets' mean.
    let mut cfg = small_config(Padding::Same);
    cfg.height = 8;
    cfg.width = 48;
    cfg.dropout = 0.1;
    let px = cfg.height * cfg.width;
    let make = |n: usize, seed: u64| {
        let mut r = rng(seed);
        let mut x = vec![0.0f32; n * px];
        let mut t = vec![0.0f32; n * 4];
        for i in 0..n {
            let (a, b) = (r.random::<f32>(), r.random::<f32>());
            for y in 0..cfg.height {
                for c in 0..cfg.width {
                    let z: f32 = r.random_range(-1.0..1.0);
                    x[i * px + y * cfg.width + c] = a * z * 1.7 + b * (c as f32 * 0.7).sin();
                }
            }
            t[i * 4..i * 4 + 4].copy_from_slice(&[a, b, a * b, 0.5]);
        }
        (x, t)
    };
    let (xv, tv) = make(64, 99);
    let mean: Vec<f32> = (0..4)
        .map(|j| (0..64).map(|i| tv[i * 4 + j]).sum::<f32>() / 64.0)
        .collect();
    let base: f32 = (0..64 * 4)
        .map(|k| (tv[k] - mean[k % 4]).powi(2))
        .sum::<f32>()
        / 256.0;
    let mut net = CpuCnn::new(&cfg).unwrap();
    let mut p = net.init(1);
    let mut g = vec![0.0f32; p.len()];
    for step in 0..800u64 {
        let (x, t) = make(16, step);
        net.forward_backward(&p, &x, &t, step, &mut g).unwrap();
        // Plain SGD with momentum-free steps (the optimisers live in the nn module).
        p.iter_mut().zip(&g).for_each(|(w, d)| *w -= 0.1 * d);
    }
    let val = net.eval_loss(&p, &xv, &tv).unwrap();
    eprintln!("validation MSE {val:.4} vs mean predictor {base:.4}");
    assert!(
        val < 0.4 * base,
        "validation MSE {val} vs mean predictor {base}"
    );
}
