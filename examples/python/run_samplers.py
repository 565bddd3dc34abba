"""Run dynesty and emcee on a spinflip likelihood through the C ABI, and check them against
spinflip's own nested sampler.

    python run_samplers.py CONFIG.toml [--lib target/release/libspinflip.so]
                                       [--bin target/release/spinflip] [--nlive 200]

The library comes from --lib or $SPINFLIP_LIB, the binary from --bin or $SPINFLIP_BIN.
Exits 1 if dynesty's ln Z and spinflip's disagree, or emcee's posterior means are off.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spinflip import Likelihood  # noqa: E402

# Slack added to the combined ln Z error. Both reported errors are the statistical
# sqrt(H / n_live) of nested sampling; neither counts the truncation error of stopping while
# the live points could still add up to dlogz = 0.1 to ln Z (spinflip's default; dynesty is
# given the same), so allow 0.1 per run.
LOGZ_SLACK = 0.2
# emcee means must lie within this many posterior standard deviations of spinflip's: the
# Monte Carlo error of a mean from ~n_eff independent samples is std / sqrt(n_eff), far below
# one std, so 1 std leaves room for the nested sampler's own weighted-sample noise.
MEAN_TOL_STD = 1.0


def run_spinflip(config, binary, seed):
    """`spinflip fit CONFIG --quiet` into a temporary root; returns (ln Z, err, params dict)."""
    tmp = tempfile.mkdtemp(prefix="spinflip-py-")
    root = os.path.join(tmp, "fit")
    t0 = time.time()
    subprocess.run(
        [binary, "fit", config, "--quiet", "--out", root, "--seed", str(seed)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open(root + "_fit.json") as f:
        fit = json.load(f)
    print(f"spinflip nested: {time.time() - t0:.1f} s, {fit['n_calls']} calls")
    params = {p["name"]: p for p in fit["params"]}
    return fit["log_evidence"], fit["log_evidence_err"], params


def run_dynesty(like, nlive, seed):
    import dynesty

    rstate = np.random.default_rng(seed)

    def prior_transform(u):
        return like.free_part(like.prior_transform(u))

    def loglike(x):
        return like.log_likelihood(like.to_theta(x))

    t0 = time.time()
    sampler = dynesty.NestedSampler(
        loglike, prior_transform, like.n_dims, nlive=nlive, rstate=rstate
    )
    sampler.run_nested(dlogz=0.1, print_progress=False)
    res = sampler.results
    logz, logz_err = float(res.logz[-1]), float(res.logzerr[-1])
    w = np.exp(res.logwt - res.logz[-1])
    w /= w.sum()
    mean = w @ res.samples
    print(f"dynesty: {time.time() - t0:.1f} s, {int(np.sum(res.ncall))} calls")
    return logz, logz_err, mean


def run_emcee(like, start, scale, seed, n_walkers=16, n_steps=600, burn=200):
    import emcee

    def log_prob(xs):
        # Vectorised: emcee passes (n_walkers / 2, n_dims); one batched spinflip call.
        thetas = like.to_theta(xs)
        lp = np.array([like.log_prior(t) for t in thetas])
        out = np.full(len(xs), -np.inf)
        ok = np.isfinite(lp)
        if ok.any():
            out[ok] = lp[ok] + like.log_likelihood_batch(thetas[ok])
        return out

    rng = np.random.default_rng(seed)
    p0 = start + 1e-2 * scale * rng.standard_normal((n_walkers, like.n_dims))
    t0 = time.time()
    sampler = emcee.EnsembleSampler(n_walkers, like.n_dims, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(p0, n_steps, progress=False)
    chain = sampler.get_chain(discard=burn, flat=True)
    print(
        f"emcee: {time.time() - t0:.1f} s, {n_walkers * n_steps} calls, "
        f"acceptance {np.mean(sampler.acceptance_fraction):.2f}"
    )
    return chain.mean(axis=0), chain.std(axis=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--lib", default=os.environ.get("SPINFLIP_LIB"))
    ap.add_argument("--bin", default=os.environ.get("SPINFLIP_BIN"))
    ap.add_argument("--nlive", type=int, default=200)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if not args.bin:
        ap.error("pass --bin PATH or set SPINFLIP_BIN to the spinflip binary")

    failures = []
    with Likelihood(args.config, lib=args.lib) as like:
        print(f"spinflip {like.version}: free parameters {like.free_names}")
        z_sf, e_sf, post = run_spinflip(args.config, args.bin, args.seed)
        z_dy, e_dy, mean_dy = run_dynesty(like, args.nlive, args.seed)

        tol = 3 * math.hypot(e_sf, e_dy) + LOGZ_SLACK
        dz = z_dy - z_sf
        print(f"ln Z spinflip {z_sf:.3f} +- {e_sf:.3f}")
        print(f"ln Z dynesty  {z_dy:.3f} +- {e_dy:.3f}   |diff| {abs(dz):.3f} (allowed {tol:.3f})")
        if not abs(dz) < tol:
            failures.append(f"ln Z differs by {dz:.3f}, more than {tol:.3f}")

        mean_sf = np.array([post[n]["mean"] for n in like.free_names])
        std_sf = np.array([post[n]["std"] for n in like.free_names])
        mean_em, std_em = run_emcee(like, mean_sf, std_sf, args.seed)
        print(f"{'param':<8} {'spinflip':>24} {'dynesty':>10} {'emcee':>24}")
        for i, n in enumerate(like.free_names):
            print(
                f"{n:<8} {mean_sf[i]:>11.4g} +- {std_sf[i]:<9.3g} {mean_dy[i]:>10.4g} "
                f"{mean_em[i]:>11.4g} +- {std_em[i]:<9.3g}"
            )
            for who, m in (("dynesty", mean_dy[i]), ("emcee", mean_em[i])):
                if not abs(m - mean_sf[i]) < MEAN_TOL_STD * std_sf[i]:
                    failures.append(
                        f"{who} mean of {n} = {m:.4g}, spinflip {mean_sf[i]:.4g} +- {std_sf[i]:.3g}"
                    )

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print("agreement" if not failures else f"{len(failures)} disagreement(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
