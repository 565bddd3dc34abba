#!/usr/bin/env python3
"""dynesty (and UltraNest, if installed) on the nested-sampling suite's problems, built from
the JSON that `nested_suite dump PROBLEM SEED` prints, so both sides see the same numbers.

    python3 scripts/nested_suite_peers.py BIN PROBLEM SEEDS [N_LIVE]

BIN is target/release/examples/nested_suite; SEEDS like 1..5. One line per run, in the
columns of nested_suite's own table. PEERS=dynesty (or PEERS=ultranest) runs only that one.
"""
import json
import os
import subprocess
import sys

import numpy as np


def build(spec):
    d, lo, hi = spec["d"], spec["lo"], spec["hi"]
    if spec["kind"] == "mixture":
        w = np.array(spec["weights"]) / sum(spec["weights"])
        s = np.array(spec["widths"])
        c = np.array(spec["centres"])

        def loglike(x):
            r2 = ((x[None, :] - c) ** 2).sum(axis=1)
            t = np.log(w) - 0.5 * r2 / s**2 - 0.5 * d * np.log(2 * np.pi * s**2)
            m = t.max()
            return m + np.log(np.exp(t - m).sum())
    else:
        rho = spec["rho"]
        a, b = 1 - rho, rho
        log_det = (d - 1) * np.log(a) + np.log(a + d * b)
        inv_off = -b / (a * (a + d * b))
        norm = -0.5 * d * np.log(2 * np.pi) - 0.5 * log_det

        def loglike(x):
            return norm - 0.5 * ((x * x).sum() / a + inv_off * x.sum() ** 2)

    def transform(u):
        return lo + (hi - lo) * np.asarray(u)

    return d, loglike, transform


def main():
    binary, problem, seeds = sys.argv[1], sys.argv[2], sys.argv[3]
    n_live = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    a, b = (int(v) for v in seeds.split(".."))
    peers = os.environ.get("PEERS", "dynesty,ultranest").split(",")
    import dynesty

    ultranest = None
    if "ultranest" in peers:
        try:
            import ultranest
        except ImportError:
            print("# ultranest not installed: dynesty only", file=sys.stderr)
    for seed in range(a, b + 1):
        spec = json.loads(subprocess.check_output([binary, "dump", problem, str(seed)]))
        d, loglike, transform = build(spec)
        if "dynesty" in peers:
            s = dynesty.NestedSampler(loglike, transform, d, nlive=n_live,
                                      rstate=np.random.default_rng(seed))
            s.run_nested(dlogz=0.1, print_progress=False)
            r = s.results
            z, e = r.logz[-1], r.logzerr[-1]
            print(f"dynesty {problem} {seed} {n_live} {z:.3f} {spec['log_z']:.3f} {e:.3f} "
                  f"{abs(z - spec['log_z']) / e:.2f} {int(np.sum(r.ncall))}", flush=True)
        if ultranest is not None:
            u = ultranest.ReactiveNestedSampler(
                [f"x{i}" for i in range(d)], loglike, transform, log_dir=None)
            ur = u.run(min_num_live_points=n_live, dlogz=0.1, show_status=False, viz_callback=False)
            z, e = ur["logz"], ur["logzerr"]
            print(f"ultranest {problem} {seed} {n_live} {z:.3f} {spec['log_z']:.3f} {e:.3f} "
                  f"{abs(z - spec['log_z']) / e:.2f} {ur['ncall']}", flush=True)


if __name__ == "__main__":
    main()
