#!/usr/bin/env bash
# The joint CNN + power-spectrum likelihood (models/maps_joint_likelihood.json): its parts are
# the shipped CNN and power-spectrum likelihoods; what is new is the correlation R of the two
# summaries' standardised residuals on the same light-cones (src/maps/joint.rs):
#   z_cnn = r_cnn / sigma_cnn (sigma from the CNN bundle's covariance),
#   z_ps  = r_ps / sigma_ps(theta) (the power spectrum's scatter model),
# R_ps,ps from the scatter model (9,000 light-cones), R_cnn,cnn and R_cnn,ps from the 2,000
# light-cones neither the CNN nor the emulators trained on (rows 8000-9999).
# Needs data/maps/shard{0,1,2}.npz, data/maps/cnn_summaries.npz (scripts/build_maps_cnn_likelihood.sh)
# and data/maps/ps_scatter/ (scripts/build_maps_ps_scatter.sh). Under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SPINFLIP:-target/release/spinflip}
PY=${PYTHON:-python3}
[ -x "$SF" ] || cargo build --release
W=data/maps/ps_scatter
"$SF" eval mlp --model models/maps_cnn_summary --data data/maps/cnn_summaries.npz --split all \
  --out "$W/cnn_summary_eval_all.json" --predictions "$W/cnn_residuals_all.npz" > /dev/null
"$PY" - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
cnn = np.load(f"{w}/cnn_residuals_all.npz")
ps = np.load(f"{w}/emulator_residuals_all.npz")
assert np.allclose(cnn["inputs"], ps["inputs"]), "CNN and power-spectrum rows are not the same light-cones"
rows = slice(8000, 10000)
r_cnn = cnn["residual"][rows]
r_ps = np.load(f"{w}/residuals.npy")[rows]
g = np.load(f"{w}/scatter_predictions_all.npz")["predicted"][rows]
sc = np.load("models/maps_ps_scatter_cov.npz")
z_ps = r_ps / np.sqrt(sc["scale"] * np.exp(g))
# sigma_cnn as the CNN bundle has it: residuals on its 1,000 test rows, with the Hartlap factor.
t = np.load("models/maps_cnn_residuals.npz")["residual"]
n, p = t.shape
sig_cnn = np.sqrt(t.var(0, ddof=1) * (n - 1) / (n - p - 2))
z_cnn = r_cnn / sig_cnn
z = np.hstack([z_cnn, z_ps])
R = np.corrcoef(z.T)
R[4:, 4:] = sc["correlation"]
ev = np.linalg.eigvalsh(R)
assert ev.min() > 0, f"R is not positive definite (min eigenvalue {ev.min()})"
np.savez("models/maps_joint_correlation.npz", correlation=R)
cross = np.abs(R[:4, 4:])
print(f"joint R {R.shape}: min eigenvalue {ev.min():.3g}; |corr(CNN, PS)| median {np.median(cross):.3f}, max {cross.max():.3f}")
print("largest |corr| of each CNN summary with a PS bin:", np.round(cross.max(1), 3))
PY
echo "built models/maps_joint_correlation.npz"
