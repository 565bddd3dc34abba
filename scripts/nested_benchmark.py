#!/usr/bin/env python3
"""The nested-sampling benchmark: spinflip's nested sampler at its defaults on the suite's
problems with fixed seeds, dynesty and UltraNest on the same likelihoods (built from
`nested_suite dump`) in the same run, one markdown table of calls, ln Z offsets, reported
errors and calibration.

    cargo build --release -p spinflip-samplers --example nested_suite
    python3 scripts/nested_benchmark.py target/release/examples/nested_suite \\
        [--seeds 1..10] [--peers dynesty,ultranest] [--problems shells,eggbox,...] \\
        [--n-live 500] [--csv runs.csv]

Columns: mean calls; mean of ln Z - exact with its standard error over the seeds; the mean
reported error; the RMS of (ln Z - exact) / reported error (1 when the errors are honest);
runs within 3 reported errors; and, for spinflip, runs that warned. The peers need Python
with dynesty (and ultranest); without them the table has spinflip only. A peer that fails
on a problem gets a row saying so.
"""
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT_PROBLEMS = [
    "gauss12", "gauss20", "corr30", "rosenbrock", "shells", "eggbox", "loggamma2",
    "loggamma10", "mixture2", "mixture3",
]


def spinflip_runs(binary, problem, a, b, n_live):
    out = subprocess.check_output([binary, problem, f"{a}..{b}", str(n_live)], text=True)
    runs = []
    for line in out.splitlines()[1:]:
        f = line.split()
        if len(f) < 11 or not f[1].isdigit():
            continue
        runs.append({"seed": int(f[1]), "log_z": float(f[3]), "exact": float(f[4]),
                     "err": float(f[5]), "calls": int(f[7]), "warned": f[10] == "1"})
    return runs


def peer_runs(binary, problem, a, b, n_live, peer):
    import nested_suite_peers as peers

    runs = []
    for seed in range(a, b + 1):
        spec = json.loads(subprocess.check_output([binary, "dump", problem, str(seed)]))
        z, e, calls = peers.RUNNERS[peer](spec, n_live, seed)
        runs.append({"seed": seed, "log_z": float(z), "exact": spec["log_z"], "err": float(e),
                     "calls": calls, "warned": None})
    return runs


def row(problem, sampler, runs):
    n = len(runs)
    dz = [r["log_z"] - r["exact"] for r in runs]
    mean = sum(dz) / n
    se = math.sqrt(sum((x - mean) ** 2 for x in dz) / (n - 1) / n) if n > 1 else float("nan")
    err = sum(r["err"] for r in runs) / n
    rms = math.sqrt(sum((x / r["err"]) ** 2 for x, r in zip(dz, runs)) / n)
    within = sum(abs(x) < 3 * r["err"] for x, r in zip(dz, runs))
    calls = sum(r["calls"] for r in runs) / n
    warned = "-" if runs[0]["warned"] is None else str(sum(r["warned"] for r in runs))
    return (f"| {problem} | {sampler} | {n} | {calls / 1e3:,.1f}k | {mean:+.3f} +- {se:.3f} | "
            f"{err:.3f} | {rms:.2f} | {within} | {warned} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("binary")
    p.add_argument("--seeds", default="1..10")
    p.add_argument("--peers", default="dynesty")
    p.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    p.add_argument("--n-live", type=int, default=500)
    p.add_argument("--csv")
    args = p.parse_args()
    try:
        a, b = (int(v) for v in args.seeds.split(".."))
        if b < a:
            raise ValueError
    except ValueError:
        p.error(f"--seeds '{args.seeds}': expected FIRST..LAST, e.g. 1..10")
    peers = [x for x in args.peers.split(",") if x]
    print("| problem | sampler | runs | mean calls | ln Z - exact | reported error | "
          "RMS offset / error | within 3 errors | warned |")
    print("|---|---|---|---|---|---|---|---|---|")
    csv = open(args.csv, "w") if args.csv else None
    if csv:
        print("problem,sampler,seed,log_z,exact,err,calls,warned", file=csv)
    for problem in args.problems.split(","):
        samplers = [("spinflip", lambda: spinflip_runs(args.binary, problem, a, b, args.n_live))]
        samplers += [(peer, lambda peer=peer: peer_runs(args.binary, problem, a, b,
                                                         args.n_live, peer)) for peer in peers]
        for name, run in samplers:
            try:
                runs = run()
            except ImportError:
                print(f"| {problem} | {name} | not installed | | | | | | |", flush=True)
                continue
            except Exception as e:  # a peer failing on a problem is a result too
                print(f"| {problem} | {name} | failed: {type(e).__name__} | | | | | | |",
                      flush=True)
                continue
            print(row(problem, name, runs), flush=True)
            if csv:
                for r in runs:
                    print(f"{problem},{name},{r['seed']},{r['log_z']},{r['exact']},{r['err']},"
                          f"{r['calls']},{r['warned']}", file=csv, flush=True)


if __name__ == "__main__":
    main()
