#!/usr/bin/env bash
# Rebuild the shipped power-spectrum likelihood of light-cones (models/maps_ps_likelihood.json
# and the files it names) from the 10,000 training light-cones (their `ps` arrays):
#   1. the emulator of log10(Delta^2 + 0.01) in all 24 chunks x 16 k bins (an MLP);
#   2. its residuals on the 1,000 held-out test light-cones, kept in the likelihood's 144
#      bins (12 k bins in 0.1-1 / Mpc x every other chunk) -> the covariance;
#   3. its parameter-dependent covariance (scripts/build_maps_ps_scatter.sh).
# Needs data/maps/shard{0,1,2}.npz (examples/maps_cnn_train.toml says how to make them).
# Seeded; about 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SPINFLIP:-target/release/spinflip}
[ -x "$SF" ] || cargo build --release
SHARDS="data/maps/shard0.npz data/maps/shard1.npz data/maps/shard2.npz"

"$SF" train mlp --data $SHARDS --x params --y ps --y-transform log10 --y-floor 0.01 \
  --activation tanh --hidden 256,256 --epochs 600 --patience 40 --lr-patience 15 --seed 0 \
  --out models/maps_ps_summary --quiet
"$SF" eval mlp --model models/maps_ps_summary --data $SHARDS --split test \
  --out data/maps/ps_summary_eval_test.json --predictions data/maps/ps_residuals_all.npz > /dev/null
python3 - <<'PY'
import numpy as np
r = np.load("data/maps/ps_residuals_all.npz")["residual_transformed"]
keep = [c * 16 + b for c in range(0, 24, 2) for b in range(3, 15)]  # as models/maps_ps_likelihood.json selects
np.savez("models/maps_ps_residuals.npz", residual_transformed=r[:, keep])
print("residual rms (dex): median", np.median(r[:, keep].std(0)))
PY
echo "built models/maps_ps_summary.* and models/maps_ps_residuals.npz"
# 3. the parameter-dependent covariance that replaces the fixed one in the likelihood.
bash scripts/build_maps_ps_scatter.sh
