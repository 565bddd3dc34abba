#!/usr/bin/env bash
# Rebuild the shipped CNN likelihood of light-cones (models/maps_cnn_likelihood.json and the
# files it names) from the 10,000 training light-cones and the trained map CNN:
#   1. the CNN summaries (slice means) of every light-cone -> the summary emulator's table;
#   2. the summary emulator mu(theta) (an MLP);
#   3. its residuals on the held-out test light-cones -> the likelihood's covariance;
#   4. 200 light-cones at the fiducial point, seeds of their own -> the sample variance
#      there, against which the emulator's error is reported.
# Needs data/maps/shard{0,1,2}.npz (examples/maps_cnn_train.toml says how to make them) and
# models/maps_cnn. Every step is seeded; about 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SPINFLIP:-target/release/spinflip}
[ -x "$SF" ] || cargo build --release
SHARDS="data/maps/shard0.npz data/maps/shard1.npz data/maps/shard2.npz"

"$SF" eval cnn --model models/maps_cnn --data $SHARDS --split all \
  --out data/maps/cnn_all_eval.json --predictions data/maps/cnn_summaries.npz
"$SF" train mlp --config examples/maps_cnn_summary_train.toml --quiet
"$SF" eval mlp --model models/maps_cnn_summary --data data/maps/cnn_summaries.npz --split test \
  --out models/maps_cnn_summary_eval_test.json --predictions models/maps_cnn_residuals.npz

for _ in $(seq 200); do echo "30.0,4.69897,40.5,0.5"; done > data/maps/fiducial200.csv
"$SF" simulate maps --params data/maps/fiducial200.csv --seed 7 --quiet --out data/maps/fiducial200.npz
"$SF" eval cnn --model models/maps_cnn --data data/maps/fiducial200.npz --split all \
  --out data/maps/fiducial200_eval.json --predictions models/maps_cnn_fiducial.npz
python3 scripts/maps_emulator_check.py models/maps_cnn_summary models/maps_cnn_fiducial.npz
echo "built models/maps_cnn_summary.* and models/maps_cnn_fiducial.npz (models/maps_cnn_likelihood.json names them)"
