#!/usr/bin/env python3
"""dynesty (and UltraNest, if installed) on the nested-sampling suite's problems, built from
the JSON that `nested_suite dump PROBLEM SEED` prints, so both sides see the same numbers.

    python3 scripts/nested_suite_peers.py BIN PROBLEM SEEDS [N_LIVE]

BIN is target/release/examples/nested_suite; SEEDS like 1..5. One line per run, in the
columns of nested_suite's own table. PEERS=dynesty (or PEERS=ultranest, or PEERS=dynesty_rslice: dynesty
with random slice sampling forced) runs only that one.
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
    elif spec["kind"] == "shells":
        w, r = 0.1, 2.0
        norm = -0.5 * np.log(2 * np.pi * w * w)

        def loglike(x):
            a = norm - 0.5 * (np.hypot(x[0] + 3.5, x[1]) - r) ** 2 / w**2
            b = norm - 0.5 * (np.hypot(x[0] - 3.5, x[1]) - r) ** 2 / w**2
            return np.logaddexp(a, b)
    elif spec["kind"] == "eggbox":

        def loglike(x):
            return (2.0 + np.cos(x[0] / 2.0) * np.cos(x[1] / 2.0)) ** 5
    elif spec["kind"] == "loggamma":
        a3, b3, s = 1.0 / 3.0, 2.0 / 3.0, 1.0 / 30.0

        def lg(x, loc):
            y = (x - loc) / s
            return y - np.exp(y) - np.log(s)

        def nm(x, mu):
            return -0.5 * ((x - mu) / s) ** 2 - 0.5 * np.log(2 * np.pi * s * s)

        def loglike(x):
            h = np.log(0.5)
            v = np.logaddexp(h + lg(x[0], a3), h + lg(x[0], b3))
            v += np.logaddexp(h + nm(x[1], a3), h + nm(x[1], b3))
            for i in range(2, d):
                v += lg(x[i], b3) if i < d // 2 + 1 else nm(x[i], b3)
            return v
    elif spec["kind"] == "rosenbrock":

        def loglike(x):
            return -((1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2)
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


def run_dynesty(spec, n_live, seed):
    """ln Z, its error and the calls of dynesty 3.1 at its defaults."""
    import dynesty

    d, loglike, transform = build(spec)
    s = dynesty.NestedSampler(loglike, transform, d, nlive=n_live,
                              rstate=np.random.default_rng(seed))
    s.run_nested(dlogz=0.1, print_progress=False)
    r = s.results
    return r.logz[-1], r.logzerr[-1], int(np.sum(r.ncall))


def run_dynesty_rslice(spec, n_live, seed):
    """The same with dynesty's random slice sampling forced (its default only above 20
    dimensions; below it random walks), for slice-against-slice comparisons."""
    import dynesty

    d, loglike, transform = build(spec)
    s = dynesty.NestedSampler(loglike, transform, d, nlive=n_live, sample="rslice",
                              rstate=np.random.default_rng(seed))
    s.run_nested(dlogz=0.1, print_progress=False)
    r = s.results
    return r.logz[-1], r.logzerr[-1], int(np.sum(r.ncall))


def run_ultranest(spec, n_live, seed):
    """ln Z, its error and the calls of UltraNest 4.6 at its defaults (it takes no seed:
    numpy's global one is set)."""
    import ultranest

    np.random.seed(seed)
    d, loglike, transform = build(spec)
    u = ultranest.ReactiveNestedSampler(
        [f"x{i}" for i in range(d)], loglike, transform, log_dir=None)
    ur = u.run(min_num_live_points=n_live, dlogz=0.1, show_status=False, viz_callback=False)
    return ur["logz"], ur["logzerr"], int(ur["ncall"])


RUNNERS = {"dynesty": run_dynesty, "dynesty_rslice": run_dynesty_rslice,
           "ultranest": run_ultranest}


def main():
    binary, problem, seeds = sys.argv[1], sys.argv[2], sys.argv[3]
    n_live = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    a, b = (int(v) for v in seeds.split(".."))
    peers = os.environ.get("PEERS", "dynesty,ultranest").split(",")
    for seed in range(a, b + 1):
        spec = json.loads(subprocess.check_output([binary, "dump", problem, str(seed)]))
        for peer in peers:
            try:
                z, e, calls = RUNNERS[peer](spec, n_live, seed)
            except ImportError:
                print(f"# {peer} not installed", file=sys.stderr)
                continue
            print(f"{peer} {problem} {seed} {n_live} {z:.3f} {spec['log_z']:.3f} {e:.3f} "
                  f"{abs(z - spec['log_z']) / e:.2f} {calls}", flush=True)


if __name__ == "__main__":
    main()
