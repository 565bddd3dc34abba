#!/usr/bin/env bash
# Rebuild the shipped compressed power-spectrum likelihood (models/maps_ps_compressed_likelihood.json
# and the files it names) from the 10,000 training light-cones (their `ps` arrays):
#   1. the 144 bins the 21CMMC-convention likelihood keeps (12 k bins in 0.1-1 / Mpc x every
#      other of 24 chunks), as two tables: light-cones 0-3,999 for the compressor, 4,000-9,999
#      for the summary emulator (a network's outputs on its own training rows are closer to the
#      truth than on new data; an emulator of those would be biased);
#   2. the compressor: an MLP from log10(Delta^2 + 0.01) of those bins to the four parameters
#      (examples/maps_ps_compressor_train.toml);
#   3. its outputs on light-cones 4,000-9,999 -> the summary emulator mu(theta)
#      (examples/maps_ps_compressed_summary_train.toml), trained on 4,000-7,999, validated on
#      8,000-8,999;
#   4. the emulator's residuals on 9,000-9,999 (the test light-cones of every other map model)
#      -> the likelihood's covariance;
#   5. 200 light-cones at the fiducial point (the CNN likelihood's, seed 7) -> the sample variance
#      there, against which the emulator's error is reported;
#   6. the scatter's dependence on the parameters (as scripts/build_maps_ps_scatter.sh does for
#      the 144 bins): g, an MLP of ln r^2 on the emulator's training rows; s_i on its validation
#      rows; R the standardised residuals' correlation; a report on the test rows;
#   7. with the CNN likelihood's residuals on the same 1,000 test light-cones, the correlation of
#      the two parts' standardised residuals -> models/maps_joint_compressed_likelihood.json
#      (CNN + compressed power spectrum, 8 numbers; src/maps/joint.rs).
# Needs data/maps/shard{0,1,2}.npz (examples/maps_cnn_train.toml says how to make them).
# Every step is seeded; about 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SPINFLIP:-target/release/spinflip}
PY=${PYTHON:-python3}  # with numpy
[ -x "$SF" ] || cargo build --release
SHARDS="data/maps/shard0.npz data/maps/shard1.npz data/maps/shard2.npz"

"$PY" - $SHARDS <<'PY'
import sys, numpy as np
ps = np.concatenate([np.load(f)["ps"] for f in sys.argv[1:]]).reshape(-1, 24 * 16)
params = np.concatenate([np.load(f)["params"] for f in sys.argv[1:]])
# As models/maps_ps_likelihood.json selects (src/maps/ps_summary.rs: selected_bins); the
# names are the flat indices, which the likelihood checks against its own selection.
keep = [c * 16 + b for c in range(0, 24, 2) for b in range(3, 15)]
names = np.array([f"ps[{i}]" for i in keep])
pn = np.array(["zeta", "log10_Tvir", "log10_LX", "E0_keV"])
for part, rows in (("a", slice(0, 4000)), ("b", slice(4000, 10000))):
    np.savez(f"data/maps/ps_kept_{part}.npz", ps_kept=ps[rows][:, keep], ps_kept_names=names,
             params=params[rows], param_names=pn)
print("kept", len(keep), "bins of", ps.shape[0], "light-cones")
PY
"$SF" train mlp --config examples/maps_ps_compressor_train.toml --quiet
"$SF" eval mlp --model models/maps_ps_compressor --data data/maps/ps_kept_b.npz --split all \
  --out models/maps_ps_compressor_eval.json --predictions data/maps/ps_compressed_b.npz
"$PY" - <<'PY'
import numpy as np
e = np.load("data/maps/ps_compressed_b.npz")
names = np.array(["t_zeta", "t_log10_Tvir", "t_log10_LX", "t_E0_keV"])
np.savez("data/maps/ps_compressed_summaries.npz", params=e["truth"], t_ps=e["predicted"],
         t_ps_names=names, param_names=np.array(["zeta", "log10_Tvir", "log10_LX", "E0_keV"]))
PY
"$SF" train mlp --config examples/maps_ps_compressed_summary_train.toml --quiet
"$SF" eval mlp --model models/maps_ps_compressed_summary --data data/maps/ps_compressed_summaries.npz \
  --split test --out models/maps_ps_compressed_summary_eval_test.json \
  --predictions models/maps_ps_compressed_residuals.npz

[ -f data/maps/fiducial200.npz ] || {
  for _ in $(seq 200); do echo "30.0,4.69897,40.5,0.5"; done > data/maps/fiducial200.csv
  "$SF" simulate maps --params data/maps/fiducial200.csv --seed 7 --quiet --out data/maps/fiducial200.npz
}
"$PY" - <<'PY'
import numpy as np
f = np.load("data/maps/fiducial200.npz")
keep = [c * 16 + b for c in range(0, 24, 2) for b in range(3, 15)]
np.savez("data/maps/fiducial200_kept.npz", ps_kept=f["ps"].reshape(-1, 24 * 16)[:, keep],
         ps_kept_names=np.array([f"ps[{i}]" for i in keep]), params=f["params"],
         param_names=np.array(["zeta", "log10_Tvir", "log10_LX", "E0_keV"]))
PY
"$SF" eval mlp --model models/maps_ps_compressor --data data/maps/fiducial200_kept.npz --split all \
  --out data/maps/fiducial200_compressed_eval.json --predictions data/maps/fiducial200_compressed.npz > /dev/null
"$PY" -c "import numpy as np; np.savez('models/maps_ps_compressed_fiducial.npz', t_ps=np.load('data/maps/fiducial200_compressed.npz')['predicted'])"
"$PY" scripts/maps_emulator_check.py models/maps_ps_compressed_summary models/maps_ps_compressed_fiducial.npz t_ps
W=data/maps/ps_compressed_scatter
mkdir -p "$W"
"$SF" eval mlp --model models/maps_ps_compressed_summary --data data/maps/ps_compressed_summaries.npz \
  --split all --out "$W/emulator_eval_all.json" --predictions "$W/emulator_residuals_all.npz" > /dev/null
"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
z = np.load(f"{w}/emulator_residuals_all.npz")
x, r = z["inputs"], z["residual"]
assert len(x) == 6000, len(x)
np.savez(f"{w}/train.npz", params=x[:4000], lnr2=np.log(r[:4000] ** 2 + 1e-30))
np.savez(f"{w}/all.npz", params=x, lnr2=np.log(r ** 2 + 1e-30))
np.save(f"{w}/residuals.npy", r)
PY
"$SF" train mlp --data "$W/train.npz" --x params --y lnr2 --hidden 64,64 --activation tanh \
  --n-val 800 --n-test 200 --epochs 400 --patience 30 --lr-patience 10 --seed 0 \
  --out models/maps_ps_compressed_scatter --quiet
"$SF" eval mlp --model models/maps_ps_compressed_scatter --data "$W/all.npz" --split all \
  --out "$W/scatter_eval_all.json" --predictions "$W/scatter_predictions_all.npz" > /dev/null
"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
r = np.load(f"{w}/residuals.npy")
g = np.load(f"{w}/scatter_predictions_all.npz")["predicted"]
tr, va, te = slice(0, 4000), slice(4000, 5000), slice(5000, 6000)
scale = (r[va] ** 2 / np.exp(g[va])).mean(0)
sd = np.sqrt(scale * np.exp(g))
zs = r / sd
R = np.corrcoef(zs[:5000].T)
np.savez("models/maps_ps_compressed_scatter_cov.npz", scale=scale, correlation=R)
np.save(f"{w}/sigma_all.npy", sd)
fixed = np.cov(r[te].T)
chi_fix = np.einsum("ni,ij,nj->n", r[te], np.linalg.inv(fixed), r[te])
chi_het = np.array([zi @ np.linalg.solve(R, zi) for zi in zs[te]])
print("test rows: <z^2> per summary", np.round((zs[te] ** 2).mean(0), 3))
for name, c in [("fixed", chi_fix), ("parameter-dependent", chi_het)]:
    print(f"chi^2 (4 dof) on test rows, {name} covariance: mean {c.mean():.2f}, 95/99% {np.round(np.percentile(c, [95, 99]), 1)} (chi^2_4: 9.5, 13.3)")
PY

"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
cnn = np.load("models/maps_cnn_residuals.npz")
ps = np.load("models/maps_ps_compressed_residuals.npz")
assert np.allclose(cnn["inputs"], ps["inputs"]), "CNN and power-spectrum rows are not the same light-cones"
# Standardised as each part's likelihood has it: the CNN's fixed sigma (residual variance
# with the Hartlap factor), the compressed spectrum's sigma(theta) of its scatter model.
r = cnn["residual"]
n, p = r.shape
z_cnn = r / np.sqrt(r.var(0, ddof=1) * (n - 1) / (n - p - 2))
z_ps = ps["residual"] / np.load(f"{w}/sigma_all.npy")[5000:6000]
R = np.corrcoef(np.hstack([z_cnn, z_ps]).T)
ev = np.linalg.eigvalsh(R)
assert ev.min() > 0, f"R is not positive definite (min eigenvalue {ev.min()})"
np.savez("models/maps_joint_compressed_correlation.npz", correlation=R)
print("corr(CNN residual, compressed-PS residual) for the same parameter:", np.round(np.diag(R[:4, 4:]), 3))
PY
echo "built models/maps_ps_compressor.*, models/maps_ps_compressed_summary.*, residuals, scatter and the joint correlation (models/maps_ps_compressed_likelihood.json and models/maps_joint_compressed_likelihood.json name them)"
