#!/usr/bin/env python3
"""Make the 21cmFAST reference global 21-cm signals shipped in data/reference/.

Runs 21cmFAST's one-cell global evolution (``py21cmfast.run_global_evolution``, v4) at the
Planck 2018 cosmology that spinflip uses (21cmFAST v4's default: h = 0.6766, Omega_m = 0.30964,
Omega_b = 0.04897, sigma_8 = 0.8102, n_s = 0.9665) for:

``defaults``
    21cmFAST v4.1 default astrophysics (template "defaults") with the spin temperature switched
    on (USE_TS_FLUCT = True). The default source model (CHMF-SAMPLER, discrete halos) cannot run
    as a global evolution, so the grid-based E-INTEGRAL model with the same scaling relations is
    used (as in 21cmFAST's "latest" and "Park19" templates).

``matched``
    Astrophysics matched, as far as 21cmFAST allows, to spinflip's fiducial 21cmGEM point
    (f_star = 0.05, V_c = 16.5 km/s, f_X = 1, tau = 0.055, alpha_X = 1.3, nu_min = 0.5 keV,
    R_mfp = 30 Mpc). See ``matched_params`` and docs/21cmfast_comparison.md for the mapping.

``matched_lx_nominal``
    As ``matched`` but with L_X(E_0-2 keV)/SFR set to the nominal 3e40 erg/s/(Msun/yr) with no
    band conversion: a sensitivity case showing how much the X-ray band convention matters.

``matched_lya_cmb_heating``
    As ``matched`` but with 21cmFAST v4's default Ly-alpha heating (Reis+21) and CMB heating
    (Meiksin 21) switched on: a sensitivity case for physics a 21cmGEM-like model leaves out.

Usage (from the repository root, in a venv with scripts/requirements-21cmfast.txt)::

    python scripts/make_21cmfast_reference.py [-o data/reference/21cmfast_global.csv]

Each case takes about 45 s on one core (matched cases: two runs, to tune HII_EFF_FACTOR). Writes one CSV (a ``case`` column) with a commented
header recording versions, options and run times, and a JSON sidecar with every input parameter.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import py21cmfast as p21c
from py21cmfast.wrapper.cfuncs import compute_tau, evaluate_Nion_z
from py21cmfast.wrapper.inputs import get_logspaced_redshifts

# ---------------------------------------------------------------------------------------------
# Cosmology: Planck 2018 as in spinflip and 21cmFAST v4 (set explicitly, so that a change of
# 21cmFAST's defaults cannot silently change the reference).
COSMO = dict(hlittle=0.6766, OMm=0.30964, OMb=0.04897, SIGMA_8=0.8102, POWER_INDEX=0.9665)

# Redshift nodes: 21cmFAST's own log-spaced grid, (1+z_{i+1}) = 1.02 (1+z_i), from z = 5 up to
# just above Z_HEAT_MAX = 35 (21cmFAST's default; it starts the IGM from its RECFAST tables there).
Z_MIN = 5.0
Z_HEAT_MAX = 35.0
ZPRIME_STEP_FACTOR = 1.02

# spinflip fiducial (21cmGEM parameters), see sim/src/global/params.rs GlobalParams::fiducial().
FIDUCIAL = dict(f_star=0.05, V_c=16.5, f_X=1.0, tau=0.055, alpha_X=1.3, nu_min=0.5, R_mfp=30.0)

# spinflip's X-ray normalisation: L_X/SFR = 3e40 f_X erg/s/(Msun/yr), emitted in 0.2-95 keV by a
# power law L_nu ~ nu^-alpha_X above nu_min. 21cmFAST's L_X is the luminosity in
# [NU_X_THRESH, NU_X_BAND_MAX] = [E_0, 2 keV] of the same kind of power law (energy index,
# L_nu ~ nu^-X_RAY_SPEC_INDEX, see heating_helper_progs.c). Same SED shape, different band.
LX_REF = 3e40
SPINFLIP_BAND_KEV = (0.2, 95.0)
FAST_BAND_MAX_KEV = 2.0


def band_integral(alpha: float, e1: float, e2: float) -> float:
    """Integral of E^-alpha dE from e1 to e2 (energy in a band for L_E ~ E^-alpha)."""
    if e2 <= e1:
        return 0.0
    if abs(alpha - 1.0) < 1e-9:
        return math.log(e2 / e1)
    return (e2 ** (1.0 - alpha) - e1 ** (1.0 - alpha)) / (1.0 - alpha)


def lx_fast_from_spinflip(f_x: float, alpha: float, nu_min: float) -> float:
    """21cmFAST L_X (log10, erg/s/(Msun/yr) in [E_0, 2 keV]) equivalent to spinflip's f_X.

    Reading of spinflip's convention: the 3e40 f_X erg/s/(Msun/yr) is all emitted in
    [max(0.2 keV, nu_min), 95 keV] (no photons below nu_min). 21cmFAST's E_0 = nu_min.
    """
    lo, hi = max(SPINFLIP_BAND_KEV[0], nu_min), SPINFLIP_BAND_KEV[1]
    frac = band_integral(alpha, nu_min, FAST_BAND_MAX_KEV) / band_integral(alpha, lo, hi)
    return math.log10(LX_REF * f_x * frac)


def tvir_from_vc(v_c_kms: float, mu: float = 0.59) -> float:
    """T_vir = mu m_p V_c^2 / (2 k_B) (Barkana & Loeb 2001), in K."""
    m_p, k_b = 1.67262192e-24, 1.380649e-16
    return mu * m_p * (v_c_kms * 1e5) ** 2 / (2.0 * k_b)


def node_redshifts():
    return get_logspaced_redshifts(
        min_redshift=Z_MIN, z_step_factor=ZPRIME_STEP_FACTOR, max_redshift=Z_HEAT_MAX
    )


def defaults_inputs(seed: int = 12345) -> p21c.InputParameters:
    return p21c.InputParameters.from_template(
        "defaults",
        random_seed=seed,
        node_redshifts=node_redshifts(),
        USE_TS_FLUCT=True,  # needed for a correct signal before T_S saturates
        Z_HEAT_MAX=Z_HEAT_MAX,
        ZPRIME_STEP_FACTOR=ZPRIME_STEP_FACTOR,
        **COSMO,
    )


def matched_params(lx_nominal: bool = False) -> dict:
    """21cmFAST v4 parameters for spinflip's fiducial (HII_EFF_FACTOR tuned later for tau)."""
    fid = FIDUCIAL
    # f_star: 21cmGEM's f_star is a constant star-formation efficiency, SFRD = f_star rho_b
    # df_coll/dt. 21cmFAST's CONST-ION-EFF source model uses exactly this, with the constant
    # fraction 10^F_STAR10 (the mass-dependent F_STAR10 (M/1e10)^ALPHA_STAR exp(-M_TURN/M) / t_STAR
    # form of E-INTEGRAL is not used).
    # V_c = 16.5 km/s -> T_vir = 9.7e3 K (mu = 0.59): 21cmFAST takes mu = 1.22 below 9999.99 K and
    # 0.6 above, so we use T_vir = 1e4 K exactly (log10 = 4), the atomic-cooling threshold.
    # L_X: band-converted (see lx_fast_from_spinflip).
    lx = math.log10(LX_REF * fid["f_X"]) if lx_nominal else lx_fast_from_spinflip(
        fid["f_X"], fid["alpha_X"], fid["nu_min"]
    )
    return dict(
        SOURCE_MODEL="CONST-ION-EFF",
        F_STAR10=math.log10(fid["f_star"]),
        M_MIN_in_Mass=False,  # minimum mass from ION_Tvir_MIN, a sharp cut-off
        ION_Tvir_MIN=4.0,
        X_RAY_Tvir_MIN=4.0,
        L_X=lx,
        NU_X_THRESH=1000.0 * fid["nu_min"],  # eV
        X_RAY_SPEC_INDEX=fid["alpha_X"],  # energy index in both codes: L_nu ~ nu^-alpha
        R_BUBBLE_MAX=fid["R_mfp"],  # no effect on a global run (no bubbles), kept for the record
        HMF="ST",
        USE_MINI_HALOS=False,
        INHOMO_RECO=False,
        USE_TS_FLUCT=True,
        # 21cmGEM-like thermal physics: adiabatic + Compton + X-rays only.
        USE_LYA_HEATING=False,
        USE_CMB_HEATING=False,
        USE_EXP_FILTER=False,
        CELL_RECOMB=False,
        USE_UPPER_STELLAR_TURNOVER=False,
        PHOTON_CONS_TYPE="no-photoncons",
    )


def matched_inputs(zeta: float, lx_nominal: bool = False, seed: int = 12345, **overrides):
    params = matched_params(lx_nominal)
    params.update(overrides)
    return p21c.InputParameters.from_template(
        "const-zeta",
        random_seed=seed,
        node_redshifts=node_redshifts(),
        Z_HEAT_MAX=Z_HEAT_MAX,
        ZPRIME_STEP_FACTOR=ZPRIME_STEP_FACTOR,
        HII_EFF_FACTOR=zeta,
        **COSMO,
        **params,
    )


# case name -> (L_X without band conversion?, extra 21cmFAST overrides)
MATCHED_VARIANTS = {
    "matched": (False, {}),
    "matched_lx_nominal": (True, {}),
    # 21cmFAST v4's default thermal physics on top of the matched sources
    "matched_lya_cmb_heating": (False, dict(USE_LYA_HEATING=True, USE_CMB_HEATING=True)),
}


def one_cell(inputs: p21c.InputParameters) -> p21c.InputParameters:
    """The same one-cell settings run_global_evolution applies (for cheap Q(z) evaluations)."""
    return inputs.evolve_input_structs(
        HIRES_TO_LOWRES_FACTOR=None,
        DIM=1,
        HII_DIM=1,
        BOX_LEN=1e6,
        PERTURB_ALGORITHM="LINEAR",
        USE_INTERPOLATION_TABLES="sigma-interpolation",
        INTEGRATION_METHOD_ATOMIC="GSL-QAG",
        INTEGRATION_METHOD_MINI="GSL-QAG",
        KEEP_3D_VELOCITIES=False,
    )


def tau_of(z, x_hi, inputs) -> float:
    order = np.argsort(z)
    return float(
        compute_tau(
            redshifts=np.asarray(z)[order],
            global_xHI=np.asarray(x_hi)[order],
            inputs=inputs,
        )
    )


def tune_zeta(tau_target: float, lx_nominal: bool, x_e=None) -> float:
    """Find HII_EFF_FACTOR giving tau_target, with Q_HI(z) = 1 - zeta f_coll/(1 - x_e).

    This is the Q_HI the spin-temperature module computes in a global run (no recombinations);
    x_e (neutral-IGM ionisation from X-rays, per node) can come from a previous run.
    """
    from scipy.optimize import brentq

    zs = np.asarray(node_redshifts(), dtype=float)
    inp = one_cell(matched_inputs(20.0, lx_nominal))
    fcoll, _ = evaluate_Nion_z(inputs=inp, redshifts=zs, log10mturns=np.full_like(zs, 5.0))
    xe = np.zeros_like(zs) if x_e is None else np.asarray(x_e)

    def f(zeta):
        q_hi = np.clip(1.0 - zeta * fcoll / (1.0 - xe), 0.0, 1.0)
        return tau_of(zs, q_hi, inp) - tau_target

    return brentq(f, 1.0, 2000.0, xtol=1e-4)


def run_case(inputs: p21c.InputParameters, source_model: str | None = None):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ge = p21c.run_global_evolution(inputs, source_model=source_model)
    dt = time.perf_counter() - t0
    q = ge.quantities
    z = np.asarray(ge.inputs.node_redshifts, dtype=float)
    t_cmb = 2.7255 * (1.0 + z)
    q_hi = np.asarray(q["neutral_fraction"])
    x_e = np.asarray(q["xray_ionised_fraction"])
    table = {
        "z": z,
        "dTb_mK": np.asarray(q["brightness_temp"]),
        # spinflip's definition x_HI = (1 - Q)(1 - x_e); 21cmFAST's dT_b uses Q_HI alone.
        "x_HI": q_hi * (1.0 - x_e),
        "T_K": np.asarray(q["kinetic_temp_neutral"]),
        "T_S": np.asarray(q["spin_temperature"]),
        "T_cmb": t_cmb,
        "Q_HI": q_hi,
        "x_e": x_e,
        "tau_21": np.asarray(q["tau_21"]),
    }
    # Collapsed fraction above the (sharp) source mass cut-off, only for CONST-ION-EFF, where
    # 21cmFAST's SFRD is exactly 10^F_STAR10 rho_b df_coll/dt (a direct check of spinflip's f_coll).
    if ge.inputs.matter_options.SOURCE_MODEL == "CONST-ION-EFF":
        fcoll, _ = evaluate_Nion_z(
            inputs=ge.inputs, redshifts=z.copy(), log10mturns=np.full_like(z, 5.0)
        )
        table["f_coll"] = np.asarray(fcoll)
    else:
        table["f_coll"] = np.full_like(z, np.nan)
    tau = tau_of(z, q_hi, ge.inputs)
    return ge, table, tau, dt


def trough(table):
    i = int(np.argmin(table["dTb_mK"]))
    # parabola through the minimum and its neighbours, in z
    if 0 < i < len(table["z"]) - 1:
        zz, tt = table["z"][i - 1 : i + 2], table["dTb_mK"][i - 1 : i + 2]
        c = np.polyfit(zz, tt, 2)
        if c[0] > 0:
            zmin = -c[1] / (2 * c[0])
            return float(np.polyval(c, zmin)), float(zmin)
    return float(table["dTb_mK"][i]), float(table["z"][i])


def z_half(table):
    z, x = table["z"][::-1], table["x_HI"][::-1]  # ascending z, x_HI increasing
    if x.min() > 0.5 or x.max() < 0.5:
        return float("nan")
    return float(np.interp(0.5, x, z))


def jsonable(d):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = jsonable(v)
        elif isinstance(v, (bool, int, float, str)) or v is None:
            out[k] = v
        elif isinstance(v, (np.floating, np.integer)):
            out[k] = v.item()
        elif isinstance(v, (list, tuple)):
            out[k] = [x.item() if hasattr(x, "item") else x for x in v]
        else:
            out[k] = str(v)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default="data/reference/21cmfast_global.csv")
    ap.add_argument(
        "--cases", default="defaults," + ",".join(MATCHED_VARIANTS),
        help="comma-separated subset of defaults," + ",".join(MATCHED_VARIANTS),
    )
    args = ap.parse_args(argv)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]

    results = {}
    t_all = time.perf_counter()
    for case in cases:
        print(f"== {case}", flush=True)
        if case == "defaults":
            ge, table, tau, dt = run_case(defaults_inputs(), source_model="E-INTEGRAL")
            notes = "template 'defaults' + USE_TS_FLUCT=True, source_model=E-INTEGRAL"
            extra = {}
        elif case in MATCHED_VARIANTS:
            nominal, overrides = MATCHED_VARIANTS[case]
            zeta0 = tune_zeta(FIDUCIAL["tau"], nominal)
            ge, table, tau, dt = run_case(matched_inputs(zeta0, nominal, **overrides))
            # second pass with the run's x_e (Q_HI = 1 - zeta f_coll / (1 - x_e))
            zeta = tune_zeta(FIDUCIAL["tau"], nominal, x_e=table["x_e"])
            dt_total = dt
            if abs(zeta - zeta0) / zeta0 > 1e-3:
                ge, table, tau, dt = run_case(matched_inputs(zeta, nominal, **overrides))
                dt_total += dt
            notes = (
                f"template 'const-zeta' + matched params; HII_EFF_FACTOR tuned to tau="
                f"{FIDUCIAL['tau']} (first guess {zeta0:.3f}, final {zeta:.3f}); "
                f"{dt_total:.1f} s including the tuning run"
            )
            extra = {"HII_EFF_FACTOR": zeta}
        else:
            raise SystemExit(f"unknown case {case}")
        depth, z_tr = trough(table)
        results[case] = dict(
            table=table, tau=tau, dt=dt, inputs=ge.inputs, notes=notes, extra=extra,
            trough=(depth, z_tr), z50=z_half(table),
        )
        print(
            f"   {dt:.1f} s; trough {depth:.1f} mK at z = {z_tr:.2f}; "
            f"z(x_HI=0.5) = {results[case]['z50']:.2f}; tau = {tau:.4f}",
            flush=True,
        )
    t_all = time.perf_counter() - t_all

    cols = ["z", "dTb_mK", "x_HI", "T_K", "T_S", "T_cmb", "Q_HI", "x_e", "tau_21", "f_coll"]
    lines = [
        "# 21cmFAST reference global 21-cm signals for spinflip (docs/21cmfast_comparison.md)",
        f"# made by scripts/make_21cmfast_reference.py on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"# 21cmFAST {p21c.__version__} (py21cmfast.run_global_evolution, one cell, BOX_LEN=1e6 Mpc), "
        f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}",
        "# cosmology: " + ", ".join(f"{k}={v}" for k, v in COSMO.items()) + ", OMr=8.6e-5, Y_He=0.24",
        f"# z nodes: 21cmFAST log-spaced, 1+z step factor {ZPRIME_STEP_FACTOR}, z = {Z_MIN}..{Z_HEAT_MAX} (Z_HEAT_MAX)",
        f"# total wall time {t_all:.0f} s on one core",
    ]
    for case, r in results.items():
        a = r["inputs"].astro_params
        o = r["inputs"].astro_options
        m = r["inputs"].matter_options
        lines.append(
            f"# case {case}: {r['notes']}; run {r['dt']:.1f} s; trough {r['trough'][0]:.2f} mK at z={r['trough'][1]:.3f}; "
            f"z50={r['z50']:.3f}; tau={r['tau']:.4f}"
        )
        # AstroParams log10 quantities (F_STAR10, F_ESC10, M_TURN, *_Tvir_MIN, L_X) are stored in log10
        lines.append(
            f"#   (log10 where 21cmFAST takes log10) SOURCE_MODEL={m.SOURCE_MODEL} HMF={m.HMF} POWER_SPECTRUM={m.POWER_SPECTRUM} "
            f"F_STAR10={a.F_STAR10:.4f} ALPHA_STAR={a.ALPHA_STAR} F_ESC10={a.F_ESC10:.4f} "
            f"ALPHA_ESC={a.ALPHA_ESC} M_TURN={a.M_TURN:.3f} t_STAR={a.t_STAR} "
            f"HII_EFF_FACTOR={a.HII_EFF_FACTOR:.4f} ION_Tvir_MIN={a.ION_Tvir_MIN:.3f} "
            f"X_RAY_Tvir_MIN={a.X_RAY_Tvir_MIN:.3f} M_MIN_in_Mass={o.M_MIN_in_Mass} "
            f"L_X={a.L_X:.4f} NU_X_THRESH={a.NU_X_THRESH} NU_X_BAND_MAX={a.NU_X_BAND_MAX} "
            f"X_RAY_SPEC_INDEX={a.X_RAY_SPEC_INDEX} R_BUBBLE_MAX={a.R_BUBBLE_MAX} POP2_ION={a.POP2_ION}"
        )
        lines.append(
            f"#   USE_MINI_HALOS={o.USE_MINI_HALOS} INHOMO_RECO={o.INHOMO_RECO} USE_TS_FLUCT={o.USE_TS_FLUCT} "
            f"USE_LYA_HEATING={o.USE_LYA_HEATING} USE_CMB_HEATING={o.USE_CMB_HEATING} "
            f"USE_X_RAY_HEATING={o.USE_X_RAY_HEATING} PHOTON_CONS_TYPE={o.PHOTON_CONS_TYPE}"
        )
    lines += [
        "# columns: z; dTb_mK = global brightness temperature [mK]; x_HI = Q_HI (1 - x_e) (spinflip's definition);",
        "#   T_K = kinetic temperature of the neutral IGM [K]; T_S = spin temperature [K]; T_cmb = 2.7255 (1+z) [K];",
        "#   Q_HI = neutral volume fraction (21cmFAST neutral_fraction, used in its dT_b); x_e = X-ray ionised",
        "#   fraction of the neutral IGM; tau_21 = 21-cm optical depth. dT_b is 0 after reionisation.",
        "#   f_coll = Sheth-Tormen collapsed fraction above T_vir = 1e4 K (CONST-ION-EFF cases only, else nan).",
        "case," + ",".join(cols),
    ]
    for case, r in results.items():
        t = r["table"]
        for i in range(len(t["z"])):
            lines.append(case + "," + ",".join(f"{t[c][i]:.6g}" for c in cols))
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)")

    side = out.with_name(out.stem + "_inputs.json")
    blob = {}
    for case, r in results.items():
        d = r["inputs"].asdict()
        blob[case] = jsonable(d)
    side.write_text(json.dumps(blob, indent=1, sort_keys=True) + "\n")
    print(f"wrote {side} ({side.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
