#!/usr/bin/env bash
# The power-spectrum likelihood's parameter-dependent covariance (src/maps/scatter.rs):
# C(theta)_ij = sigma_i sigma_j R_ij + m^2 delta_ij, sigma_i^2 = s_i exp(g_i(theta)).
#   1. residuals of the shipped emulator (models/maps_ps_summary) on all 10,000 light-cones,
#      in the likelihood's 144 bins; rows 0-7999 trained the emulator, 8000-8999 validated it,
#      9000-9999 are its test set;
#   2. g: an MLP from the parameters to ln r^2, trained on rows 0-7999 (seed 0);
#   3. s_i = <r_i^2 / exp(g_i)> on rows 8000-8999 (absorbs E[ln chi^2_1] = -1.27 and any bias),
#      R = correlation of the standardised residuals on rows 0-8999;
#   4. a report on rows 9000-9999 (never used above): <z^2>, kurtosis of z, chi^2 under the fixed
#      and the parameter-dependent covariance.
# Needs data/maps/shard{0,1,2}.npz (examples/maps_cnn_train.toml). About 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SPINFLIP:-target/release/spinflip}
PY=${PYTHON:-python3}
[ -x "$SF" ] || cargo build --release
SHARDS="data/maps/shard0.npz data/maps/shard1.npz data/maps/shard2.npz"
W=data/maps/ps_scatter
mkdir -p "$W"

"$SF" eval mlp --model models/maps_ps_summary --data $SHARDS --split all \
  --out "$W/emulator_eval_all.json" --predictions "$W/emulator_residuals_all.npz" > /dev/null
"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
z = np.load(f"{w}/emulator_residuals_all.npz")
keep = [c * 16 + b for c in range(0, 24, 2) for b in range(3, 15)]  # as models/maps_ps_likelihood.json selects
x, r = z["inputs"], z["residual_transformed"][:, keep]
assert len(x) == 10000, len(x)
lnr2 = np.log(r**2 + 1e-12)
np.savez(f"{w}/train.npz", params=x[:8000], lnr2=lnr2[:8000])
np.savez(f"{w}/all.npz", params=x, lnr2=lnr2)
np.save(f"{w}/residuals.npy", r)
PY
"$SF" train mlp --data "$W/train.npz" --x params --y lnr2 --hidden 64,64 --activation tanh \
  --n-val 800 --n-test 200 --epochs 400 --patience 30 --lr-patience 10 --seed 0 \
  --out models/maps_ps_scatter --quiet
"$SF" eval mlp --model models/maps_ps_scatter --data "$W/all.npz" --split all \
  --out "$W/scatter_eval_all.json" --predictions "$W/scatter_predictions_all.npz" > /dev/null
"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
r = np.load(f"{w}/residuals.npy")
g = np.load(f"{w}/scatter_predictions_all.npz")["predicted"]
tr, va, te = slice(0, 8000), slice(8000, 9000), slice(9000, 10000)
scale = (r[va] ** 2 / np.exp(g[va])).mean(0)
sd = np.sqrt(scale * np.exp(g))
zs = r / sd
R = np.corrcoef(zs[:9000].T)
np.savez("models/maps_ps_scatter_cov.npz", scale=scale, correlation=R)
m2 = np.log10(1.15) ** 2
def chi2(rows, cov_of):
    out = []
    for i in rows:
        L = np.linalg.cholesky(cov_of(i))
        out.append((np.linalg.solve(L, r[i]) ** 2).sum())
    return np.array(out)
fixed = np.cov(np.load("models/maps_ps_residuals.npz")["residual_transformed"].T) + m2 * np.eye(144)
idx = range(9000, 10000)
c_fix = chi2(idx, lambda i: fixed)
c_het = chi2(idx, lambda i: sd[i][:, None] * R * sd[i][None, :] + m2 * np.eye(144))
kurt = lambda a: np.median((a**4).mean(0) / (a**2).mean(0) ** 2)
print(f"scale s_i: median {np.median(scale):.3f} (Gaussian residuals: exp(1.27) = 3.56)")
print(f"test rows: <z^2> = {np.mean(zs[te]**2):.3f}; kurtosis (median over bins) of r {kurt(r[te]):.1f}, of z {kurt(zs[te]):.1f} (Gaussian 3)")
for name, c in [("fixed", c_fix), ("parameter-dependent", c_het)]:
    q = np.percentile(c, [5, 50, 95, 99])
    print(f"chi^2 on test rows, {name} covariance: mean {c.mean():.1f}, sd {c.std():.1f}, 5/50/95/99% {np.round(q, 1)}")
PY
echo "built models/maps_ps_scatter.* and models/maps_ps_scatter_cov.npz"
