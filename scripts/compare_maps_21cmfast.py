#!/usr/bin/env python3
"""spinflip's light-cone simulator side by side with 21cmFAST 4.1.1 (issue 12, item 5).

Three steps (run from the repository root):

1. ``run-21cmfast``: runs 21cmFAST (template ``const-zeta``, ``USE_TS_FLUCT=True``, one thread)
   at the parameter sets below on the default geometry (128 Mpc, HII_DIM = 32, DIM = 96,
   z = 6-30, the same node redshifts as spinflip), saving each light-cone, its initial
   conditions (``lowres_density``) and node means under ``out/maps_21cmfast/`` (large, not
   shipped), then the small reference ``data/reference/maps/21cmfast_maps.npz``.
   Needs a venv with ``21cmFAST==4.1.1`` (``apt-get install libfftw3-dev libgsl-dev``).
2. ``run-spinflip``: runs ``spinflip simulate maps`` from 21cmFAST's own initial conditions
   (``--ics``), so both codes see the same density field and the slices can be compared
   structure by structure; also 8 independent seeds per set for the sample scatter.
3. ``compare``: the table of docs/maps_21cmfast_comparison.md and
   ``docs/img/maps_21cmfast_*.png`` (needs numpy and matplotlib only; uses the shipped
   reference, and ``out/maps_21cmfast`` for the side-by-side slices when present).

Settings matched on purpose (both codes' physics otherwise as documented): Ly-alpha and CMB
heating off (spinflip has neither), no photon-conservation correction, no RSDs, no dv/dr term
in tau_21, Sheth-Tormen mass function, Planck 2018 cosmology.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "out"
REF = ROOT / "data/reference/maps/21cmfast_maps.npz"
IMG = ROOT / "docs/img"

# zeta, log10 T_vir [K], log10 L_X/SFR (< 2 keV) [erg/s/(Msun/yr)], E_0 [keV]
SETS = np.array(
    [
        [30.0, 4.69897, 40.5, 0.5],  # 21cmFAST v4's defaults for T_vir, L_X, E_0
        [20.0, 4.3, 39.0, 0.3],
        [60.0, 5.0, 41.0, 1.0],
        [120.0, 5.5, 40.0, 0.2],
        [200.0, 5.7, 41.5, 1.2],
        [15.0, 4.1, 38.5, 1.4],
        [80.0, 4.6, 42.0, 0.8],
        [250.0, 6.0, 39.5, 0.6],
    ]
)
GEOMETRY = dict(BOX_LEN=128.0, HII_DIM=32, DIM=96)
Z_MIN, Z_MAX, Z_HEAT_MAX, NODE_FACTOR = 6.0, 30.0, 35.0, 1.02
COSMO = dict(hlittle=0.6766, OMm=0.30964, OMb=0.04897, SIGMA_8=0.8102, POWER_INDEX=0.9665)
TARGET_Z = [8.0, 10.0, 15.0, 20.0]
SEEDS = 8  # independent spinflip realisations per set (sample scatter)


def node_redshifts():
    """spinflip's nodes: from Z_HEAT_MAX down by 1.02 in (1+z) until below Z_MIN."""
    z = [Z_HEAT_MAX]
    while z[-1] >= Z_MIN:
        z.append((1.0 + z[-1]) / NODE_FACTOR - 1.0)
    return z


def fast_inputs(p, seed, **extra):
    import py21cmfast as p21c

    zeta, ltv, llx, e0 = p
    return p21c.InputParameters.from_template(
        "const-zeta",
        random_seed=seed,
        node_redshifts=node_redshifts(),
        N_THREADS=1,
        Z_HEAT_MAX=Z_HEAT_MAX,
        ZPRIME_STEP_FACTOR=NODE_FACTOR,
        USE_TS_FLUCT=True,
        M_MIN_in_Mass=False,
        R_BUBBLE_MAX=15.0,
        ION_Tvir_MIN=float(ltv),
        X_RAY_Tvir_MIN=float(ltv),
        L_X=float(llx),
        NU_X_THRESH=1000.0 * float(e0),
        HII_EFF_FACTOR=float(zeta),
        HMF="ST",
        USE_LYA_HEATING=False,
        USE_CMB_HEATING=False,
        PHOTON_CONS_TYPE="no-photoncons",
        **GEOMETRY,
        **COSMO,
        **extra,
    )


def run_21cmfast(args):
    import py21cmfast as p21c

    dest = OUT / "maps_21cmfast"
    dest.mkdir(parents=True, exist_ok=True)
    runs = [(i, p, {}) for i, p in enumerate(SETS)]
    runs.append((0, SETS[0], dict(PERTURB_ALGORITHM="LINEAR")))  # density control
    log = []
    for i, p, extra in runs:
        tag = f"set{i}" + ("_linear" if extra else "")
        path = dest / f"{tag}.npz"
        if path.exists() and not args.force:
            print(f"{tag}: exists, skipped")
            continue
        inputs = fast_inputs(p, seed=100 + i, **extra)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ics = p21c.compute_initial_conditions(inputs=inputs, write=False)
            lcn = p21c.RectilinearLightconer.between_redshifts(
                min_redshift=Z_MIN,
                max_redshift=Z_MAX,
                resolution=inputs.simulation_options.cell_size,
                quantities=("brightness_temp", "neutral_fraction", "kinetic_temp_neutral"),
            )
            lc = p21c.run_lightcone(
                lightconer=lcn,
                inputs=inputs,
                initial_conditions=ics,
                include_dvdr_in_tau21=False,
                apply_rsds=False,
                write=False,
            )
        dt = time.perf_counter() - t0
        g = lc.global_quantities
        np.savez(
            path,
            params=p,
            z=np.asarray(lc.lightcone_redshifts),
            tb=lc.lightcones["brightness_temp"].astype(np.float32),
            xhi=lc.lightcones["neutral_fraction"].astype(np.float32),
            tk=lc.lightcones["kinetic_temp_neutral"].astype(np.float32),
            density0=np.asarray(ics.get("lowres_density"), dtype=np.float32),
            node_z=np.asarray(node_redshifts()),
            node_tb=np.asarray(g["brightness_temp"]),
            node_xhi=np.asarray(g["neutral_fraction"]),
            node_tk=np.asarray(g["kinetic_temp_neutral"]),
            node_xe=np.asarray(g["xray_ionised_fraction"]),
            seconds=dt,
        )
        log.append((tag, dt))
        print(f"{tag}: {dt:.1f} s", flush=True)
    make_reference()
    print(json.dumps(log))


def delta2_chunk(cube, box):
    """Delta^2(k) [mK^2] of a cubic chunk (mean removed), in the spinflip bins."""
    n = cube.shape[0]
    ft = np.fft.rfftn(cube - cube.mean()) / n**3
    power = np.abs(ft) ** 2 * box**3
    k1 = 2 * np.pi * np.fft.fftfreq(n, d=box / n)
    kz = 2 * np.pi * np.fft.rfftfreq(n, d=box / n)
    kk = np.sqrt(k1[:, None, None] ** 2 + k1[None, :, None] ** 2 + kz[None, None, :] ** 2)
    w = np.full(kk.shape, 2.0)
    w[:, :, 0] = 1.0
    if n % 2 == 0:
        w[:, :, -1] = 1.0
    edges = k_edges(box, n)
    idx = np.digitize(kk, edges) - 1
    ok = (idx >= 0) & (idx < len(edges) - 1) & (kk > 0)
    cnt = np.bincount(idx[ok], weights=w[ok], minlength=len(edges) - 1)
    ksum = np.bincount(idx[ok], weights=(w * kk)[ok], minlength=len(edges) - 1)
    psum = np.bincount(idx[ok], weights=(w * power)[ok], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = ksum / cnt
        return k, k**3 * (psum / cnt) / (2 * np.pi**2)


def k_edges(box, n, bins=16):
    kf = 2 * np.pi / box
    kmax = np.sqrt(3) * np.pi * n / box * 1.0001
    return kf * (kmax / kf) ** (np.arange(bins + 1) / bins)


def chunk_at(cone, z, zt, n):
    """The cubic chunk of n slices centred nearest zt."""
    i = int(np.clip(np.argmin(abs(z - zt)) - n // 2, 0, len(z) - n))
    return cone[:, :, i : i + n], z[i + n // 2]


def make_reference():
    """Small reference from the full 21cmFAST runs: globals, rms, Delta^2, two slices."""
    src = OUT / "maps_21cmfast"
    rows = []
    for i in range(len(SETS)):
        d = np.load(src / f"set{i}.npz")
        z, tb, xhi = d["z"], d["tb"], d["xhi"]
        ps = []
        for zt in TARGET_Z:
            chunk, _ = chunk_at(tb, z, zt, tb.shape[0])
            k, d2 = delta2_chunk(chunk, GEOMETRY["BOX_LEN"])
            ps.append(d2)
        rows.append(
            dict(
                z=z,
                tb=tb.mean(axis=(0, 1)),
                xhi=xhi.mean(axis=(0, 1)),
                rms=tb.std(axis=(0, 1)),
                ps=np.array(ps),
                k=k,
                seconds=float(d["seconds"]),
                node_tb=d["node_tb"],
                node_xhi=d["node_xhi"],
                node_tk=d["node_tk"],
            )
        )
    lin = np.load(src / "set0_linear.npz")
    ps_lin = [delta2_chunk(chunk_at(lin["tb"], lin["z"], zt, 32)[0], GEOMETRY["BOX_LEN"])[1] for zt in TARGET_Z]
    REF.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        REF,
        params=SETS,
        z=rows[0]["z"].astype(np.float32),
        global_tb=np.array([r["tb"] for r in rows], dtype=np.float32),
        global_xhi=np.array([r["xhi"] for r in rows], dtype=np.float32),
        rms_tb=np.array([r["rms"] for r in rows], dtype=np.float32),
        ps=np.array([r["ps"] for r in rows], dtype=np.float32),
        ps_k=rows[0]["k"].astype(np.float32),
        ps_target_z=np.array(TARGET_Z),
        node_z=np.asarray(node_redshifts(), dtype=np.float32),
        node_tb=np.array([r["node_tb"] for r in rows], dtype=np.float32),
        node_xhi=np.array([r["node_xhi"] for r in rows], dtype=np.float32),
        node_tk=np.array([r["node_tk"] for r in rows], dtype=np.float32),
        linear_global_tb=lin["tb"].mean(axis=(0, 1)).astype(np.float32),
        linear_ps=np.array(ps_lin, dtype=np.float32),
        seconds=np.array([r["seconds"] for r in rows]),
        version=np.array("21cmFAST 4.1.1"),
    )
    print(f"wrote {REF} ({REF.stat().st_size / 1e3:.0f} kB)")


def spinflip_bin():
    exe = ROOT / "target/release/spinflip"
    return str(exe) if exe.exists() else "spinflip"


def run_spinflip(args):
    """spinflip at the same sets: from 21cmFAST's ICs, and with SEEDS independent seeds."""
    OUT.mkdir(exist_ok=True)
    csv = OUT / "maps_compare_sets.csv"
    np.savetxt(csv, SETS, delimiter=",", header="zeta,log10_Tvir,log10_LX,E0_keV", comments="")
    exe = args.spinflip or spinflip_bin()
    for i, p in enumerate(SETS):
        one = OUT / f"maps_compare_set{i}.csv"
        np.savetxt(one, p[None, :], delimiter=",")
        ics = OUT / "maps_21cmfast" / f"set{i}_ics.npy"
        src = OUT / "maps_21cmfast" / f"set{i}.npz"
        if src.exists():
            np.save(ics, np.load(src)["density0"].astype(np.float64))
            cmd = [exe, "simulate", "maps", "--quiet", "--params", str(one), "--ics", str(ics),
                   "--full-cone", "--out", str(OUT / f"maps_spinflip_ics{i}.npz")]
            subprocess.run(cmd, check=True)
        reps = OUT / f"maps_compare_set{i}_x{SEEDS}.csv"
        np.savetxt(reps, np.repeat(p[None, :], SEEDS, axis=0), delimiter=",")
        cmd = [exe, "simulate", "maps", "--quiet", "--params", str(reps), "--seed", str(1000 + i),
               "--full-cone", "--out", str(OUT / f"maps_spinflip_seeds{i}.npz")]
        subprocess.run(cmd, check=True)
    print("spinflip runs written to", OUT)


def smooth(x, n=9):
    """Running mean over n slices (plane means of a 32^2 slice are noisy)."""
    k = np.ones(n) / n
    return np.convolve(np.pad(x, n // 2, mode="edge"), k, mode="valid")


def midpoint(z, xhi):
    """Last crossing of x_HI = 0.5 going down in z (smoothed plane means), or nan."""
    x = smooth(xhi)
    for i in range(len(z) - 1, 0, -1):
        if x[i] >= 0.5 > x[i - 1]:
            return z[i] + (z[i - 1] - z[i]) * (x[i] - 0.5) / (x[i] - x[i - 1])
    return np.nan


def load_spinflip(path):
    d = np.load(path)
    cones = d["cones"]
    z = d["los_redshifts"]
    return dict(z=z, tb=d["global_tb"], xhi=d["global_xhi"], cones=cones)


def compare(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = np.load(REF)
    zf = ref["z"].astype(float)
    box = GEOMETRY["BOX_LEN"]
    rows, fails = [], []
    ours_all = []
    for i, p in enumerate(ref["params"]):
        ics_path = OUT / f"maps_spinflip_ics{i}.npz"
        seeds_path = OUT / f"maps_spinflip_seeds{i}.npz"
        if not seeds_path.exists():
            raise SystemExit(f"missing {seeds_path}: run `run-spinflip` first")
        seeds = load_spinflip(seeds_path)
        same = load_spinflip(ics_path) if ics_path.exists() else None
        zs = seeds["z"]
        # Global signal and neutral fraction: the mean over seeds (cosmic variance of the
        # plane means averages out) against 21cmFAST's single light-cone.
        tb_s = seeds["tb"].mean(axis=0)
        xhi_s = seeds["xhi"].mean(axis=0)
        tb_f = np.interp(zs, zf, ref["global_tb"][i])
        xhi_f = np.interp(zs, zf, ref["global_xhi"][i])
        zm_f = midpoint(zf, ref["global_xhi"][i])
        mids = [midpoint(zs, x) for x in seeds["xhi"]]
        zm_s = np.nanmean(mids) if np.isfinite(mids).any() else np.nan
        zm_same = midpoint(same["z"], same["xhi"][0]) if same else np.nan
        rms_dtb = float(np.sqrt(np.mean((smooth(tb_s) - smooth(tb_f)) ** 2)))
        rms_dtb_same = (
            float(np.sqrt(np.mean((smooth(same["tb"][0]) - smooth(np.interp(same["z"], zf, ref["global_tb"][i]))) ** 2)))
            if same
            else np.nan
        )
        # Delta^2 at the target redshifts: spinflip's seed mean, and the same-ICs run.
        ratios, ratios_same = [], []
        ps_s_all = []
        for j, zt in enumerate(TARGET_Z):
            d2s = []
            for c in seeds["cones"]:
                k, d2 = delta2_chunk(chunk_at(c, zs, zt, c.shape[0])[0], box)
                d2s.append(d2)
            d2_mean = np.mean(d2s, axis=0)
            ps_s_all.append(d2_mean)
            sel = (k >= 0.1) & (k <= 0.5)
            d2_f = ref["ps"][i, j]
            ratios.append(d2_mean[sel] / d2_f[sel])
            if same:
                k2, d2x = delta2_chunk(chunk_at(same["cones"][0], same["z"], zt, 32)[0], box)
                ratios_same.append(d2x[sel] / d2_f[sel])
        ratios = np.array(ratios)
        ratios_same = np.array(ratios_same) if ratios_same else None
        # rms of T_b against z (the fluctuation amplitude per slice).
        # Absorption troughs of the smoothed global signals.
        tf_s, ts_s = smooth(ref["global_tb"][i]), smooth(tb_s)
        trough_f = (float(tf_s.min()), float(zf[np.argmin(tf_s)]))
        trough_s = (float(ts_s.min()), float(zs[np.argmin(ts_s)]))
        rms_s = np.array([c.std(axis=(0, 1)) for c in seeds["cones"]]).mean(axis=0)
        rms_f = np.interp(zs, zf, ref["rms_tb"][i])
        rms_rms = float(np.sqrt(np.mean((smooth(rms_s) - smooth(rms_f)) ** 2)))
        ours_all.append(dict(zs=zs, tb=tb_s, xhi=xhi_s, rms=rms_s, ps=np.array(ps_s_all), k=k, same=same,
                             tb_band=np.percentile(seeds["tb"], [16, 84], axis=0)))
        row = dict(
            set=i,
            params=p.tolist(),
            trough_21cmfast=trough_f,
            trough_spinflip=trough_s,
            zmid_21cmfast=float(zm_f),
            zmid_spinflip=float(zm_s),
            zmid_spinflip_same_ics=float(zm_same),
            dz=float(zm_s - zm_f) if np.isfinite(zm_f) and np.isfinite(zm_s) else np.nan,
            tb_rms_diff=rms_dtb,
            tb_rms_diff_same_ics=rms_dtb_same,
            ps_ratio_median=[float(np.nanmedian(r)) for r in ratios],
            ps_ratio_min=[float(np.nanmin(r)) for r in ratios],
            ps_ratio_max=[float(np.nanmax(r)) for r in ratios],
            ps_ratio_same_ics_median=[float(np.nanmedian(r)) for r in ratios_same] if ratios_same is not None else None,
            rms_vs_z_diff=rms_rms,
        )
        rows.append(row)
        if np.isfinite(row["dz"]) and abs(row["dz"]) > 1.0:
            fails.append(f"set {i}: midpoint dz = {row['dz']:.2f}")
        # The bin medians (single bins carry the sample variance of one 21cmFAST light-cone).
        for zt, m in zip(TARGET_Z, row["ps_ratio_median"]):
            if not 0.5 <= m <= 2.0:
                fails.append(f"set {i}: Delta^2 ratio {m:.2f} at z ~ {zt:.0f}")
    # Table.
    print("| set | zeta | log T_vir | log L_X | E_0 | trough 21cmFAST | trough spinflip | z_mid 21cmFAST | "
          "z_mid spinflip | dz | T_b rms [mK] | Delta^2 z~8 | z~10 | z~15 | z~20 | same ICs (8, 10, 15, 20) | "
          "rms(T_b) [mK] |")
    print("|" + "---|" * 17)
    for r in rows:
        p = r["params"]
        cells = " | ".join(
            f"{m:.2f} ({lo:.2f}-{hi:.2f})"
            for m, lo, hi in zip(r["ps_ratio_median"], r["ps_ratio_min"], r["ps_ratio_max"])
        )
        same = ", ".join(f"{x:.2f}" for x in (r["ps_ratio_same_ics_median"] or []))
        tf, ts = r["trough_21cmfast"], r["trough_spinflip"]
        print(
            f"| {r['set']} | {p[0]:.0f} | {p[1]:.2f} | {p[2]:.1f} | {p[3]:.1f} | {tf[0]:.1f} ({tf[1]:.2f}) | "
            f"{ts[0]:.1f} ({ts[1]:.2f}) | {r['zmid_21cmfast']:.2f} | {r['zmid_spinflip']:.2f} | {r['dz']:+.2f} | "
            f"{r['tb_rms_diff']:.1f} | {cells} | {same} | {r['rms_vs_z_diff']:.1f} |"
        )
    (OUT / "maps_21cmfast_comparison.json").write_text(json.dumps(rows, indent=1))
    plots(ref, ours_all, plt)
    if fails:
        print("misses of the musts:", "; ".join(fails))
        if args.strict:
            sys.exit(1)


def plots(ref, ours, plt):
    IMG.mkdir(parents=True, exist_ok=True)
    zf = ref["z"].astype(float)
    n = len(ours)
    # Global signal and neutral fraction.
    fig, ax = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    for i, o in enumerate(ours):
        c = f"C{i}"
        lab = "set %d: zeta %.0f, Tvir 1e%.1f, LX 1e%.1f, E0 %.1f" % (i, *ref["params"][i])
        ax[0].plot(zf, smooth(ref["global_tb"][i]), color=c, lw=1.8, label=lab)
        ax[0].plot(o["zs"], smooth(o["tb"]), color=c, lw=1.2, ls="--")
        ax[1].plot(zf, smooth(ref["global_xhi"][i]), color=c, lw=1.8)
        ax[1].plot(o["zs"], smooth(o["xhi"]), color=c, lw=1.2, ls="--")
    ax[0].set_ylabel("global dT_b [mK]")
    ax[1].set_ylabel("x_HI")
    ax[1].set_xlabel("z")
    ax[0].legend(fontsize=7, ncol=2)
    ax[0].set_title("21cmFAST 4.1.1 (solid, one light-cone) vs spinflip (dashed, mean of %d seeds)" % SEEDS)
    fig.tight_layout()
    fig.savefig(IMG / "maps_21cmfast_global.png", dpi=110)
    plt.close(fig)
    # Delta^2 at the target redshifts and rms vs z.
    fig, ax = plt.subplots(1, len(TARGET_Z) + 1, figsize=(18, 4))
    k = ref["ps_k"]
    for i, o in enumerate(ours):
        c = f"C{i}"
        for j in range(len(TARGET_Z)):
            ax[j].loglog(k, ref["ps"][i, j], color=c, lw=1.6)
            ax[j].loglog(o["k"], o["ps"][j], color=c, lw=1.1, ls="--")
        ax[-1].plot(zf, smooth(ref["rms_tb"][i]), color=c, lw=1.6)
        ax[-1].plot(o["zs"], smooth(o["rms"]), color=c, lw=1.1, ls="--")
    for j, zt in enumerate(TARGET_Z):
        ax[j].set_title(f"Delta^2(k) at z ~ {zt:.0f}")
        ax[j].set_xlabel("k [1/Mpc]")
        ax[j].axvspan(0.1, 0.5, color="0.9", zorder=0)
    ax[0].set_ylabel("mK^2")
    ax[-1].set_title("rms of dT_b per slice [mK]")
    ax[-1].set_xlabel("z")
    fig.tight_layout()
    fig.savefig(IMG / "maps_21cmfast_power.png", dpi=110)
    plt.close(fig)
    # Slices side by side from the same initial conditions.
    show = [i for i in (0, 3, 6) if ours[i]["same"] is not None]
    src = OUT / "maps_21cmfast"
    if show and (src / "set0.npz").exists():
        fig, ax = plt.subplots(2 * len(show), 1, figsize=(14, 2.2 * 2 * len(show)))
        for r, i in enumerate(show):
            f = np.load(src / f"set{i}.npz")
            s = ours[i]["same"]
            a = f["tb"][0]
            b = s["cones"][0][0]
            lim = max(abs(np.percentile(a, 1)), abs(np.percentile(a, 99)), 1.0)
            for q, (img, z, name) in enumerate([(a, f["z"], "21cmFAST"), (b, s["z"], "spinflip")]):
                axx = ax[2 * r + q]
                im = axx.imshow(img, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim,
                                extent=[0, img.shape[1], 0, 128])
                ticks = [zt for zt in (6, 7, 8, 10, 12, 15, 20, 25, 30) if z[0] <= zt <= z[-1]]
                axx.set_xticks([np.argmin(abs(z - zt)) for zt in ticks])
                axx.set_xticklabels([str(zt) for zt in ticks])
                axx.set_ylabel("y [Mpc]")
                axx.set_title(f"set {i} {name} (x = 0 plane, same initial conditions)", fontsize=9)
                fig.colorbar(im, ax=axx, pad=0.01, label="mK")
        ax[-1].set_xlabel("z (line of sight)")
        fig.tight_layout()
        fig.savefig(IMG / "maps_21cmfast_slices.png", dpi=90)
        plt.close(fig)
    print("figures in", IMG)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run-21cmfast")
    r.add_argument("--force", action="store_true", help="rerun sets that exist")
    sub.add_parser("reference")
    s = sub.add_parser("run-spinflip")
    s.add_argument("--spinflip", help="the spinflip binary (default target/release/spinflip)")
    c = sub.add_parser("compare")
    c.add_argument("--strict", action="store_true", help="exit 1 if a must is missed")
    a = ap.parse_args()
    {"run-21cmfast": run_21cmfast, "reference": lambda _: make_reference(), "run-spinflip": run_spinflip, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()
