/* spinflip_polychord.h: PolyChord's C entry point, declared for programs that drive PolyChord
 * with spinflip's likelihood adapters. Hand-written (cbindgen writes only spinflip.h); installed
 * beside spinflip.h by scripts/install_clib.sh. Compile-checked as C and C++ by
 * tests/c_install.rs, which also drives spinflip_polychord_run below through a stand-in for
 * PolyChord (tests/c/polychord_stub.c).
 *
 * Where the declaration comes from: PolyChordLite 1.22.2 (github.com/PolyChord/PolyChordLite,
 * commit 1f75b714f52f43cf8494ee21dc6ace97b84e0ead, 2025-08-13), files
 *   src/polychord/interfaces.h   the C++ declaration `extern "C" void polychord_c_interface(...)`
 *   src/polychord/interfaces.F90 the Fortran subroutine behind it, bind(c, name =
 *                                'polychord_c_interface'): every scalar by value except `comm`
 *                                (a reference: `int &` in C++, a pointer in C); strings are
 *                                NUL-terminated; logicals are logical(c_bool), C's bool
 *   src/polychord/c_interface.cpp run_polychord(loglike, prior, dumper, Settings), what
 *                                pypolychord and C++ programs call, which fills these arguments
 *                                from its Settings struct (the defaults quoted below are that
 *                                struct's constructor's)
 * The entry point is in PolyChord's library (`make MPI=0 libchord.so` gives lib/libchord.so),
 * not in spinflip: link both, e.g. `... -lspinflip -L$POLYCHORD/lib -lchord`. Checked once by
 * hand against that build (100 live points on the 7-parameter emulator fit: the run finished,
 * its posterior on the mock's truth); as C++, this declaration and PolyChord's interfaces.h
 * compile together, which the compiler refuses for any differing parameter type.
 *
 * How the two connect: PolyChord's callbacks take no context pointer, so the likelihood is
 * registered first; spinflip_polychord_prior maps PolyChord's unit cube to the parameters and
 * spinflip_polychord_loglike evaluates them. PolyChord samples every parameter, so the run
 * configuration may fix none (n_dims == n_params), and no derived parameters are written
 * (nDerived = 0). Rejected points answer SPINFLIP_LOGZERO (-1e300), below PolyChord's logzero.
 *
 *     SpinflipLikelihood *like;
 *     spinflip_likelihood_from_config("run.toml", &like);
 *     spinflip_polychord_run(like, 500, 1e-3, "chains", "spinflip", 1);   // base_dir must exist
 *     spinflip_likelihood_free(like);
 *
 * spinflip_polychord_run is that wiring in a dozen lines with PolyChord's defaults for the other
 * settings; copy it and change the arguments of polychord_c_interface for more control.
 */
#ifndef SPINFLIP_POLYCHORD_H
#define SPINFLIP_POLYCHORD_H

#include "spinflip.h"

#ifndef __cplusplus
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** PolyChord's log-likelihood callback: spinflip_polychord_loglike has this type. */
typedef double (*SpinflipPolychordLoglike)(double *theta, int n_dims, double *phi, int n_derived);

/** PolyChord's prior callback (unit cube to parameters): spinflip_polychord_prior has this type. */
typedef void (*SpinflipPolychordPrior)(double *cube, double *theta, int n_dims);

/** PolyChord's dumper callback: the live and dead points, their log-weights, log Z and its error. */
typedef void (*SpinflipPolychordDumper)(int n_dead, int n_live, int n_pars, double *live,
                                        double *dead, double *logweights, double log_z,
                                        double log_z_err);

/**
 * PolyChord's C entry point (PolyChordLite's interfaces.h / interfaces.F90, argument names as in
 * its Settings struct). With PolyChord built with MPI, `comm` points to the Fortran handle of
 * the communicator (MPI_Comm_c2f); without MPI it is ignored (pass a pointer to 0).
 */
void polychord_c_interface(SpinflipPolychordLoglike loglikelihood, SpinflipPolychordPrior prior,
                           SpinflipPolychordDumper dumper, int nlive, int num_repeats, int nprior,
                           int nfail, bool do_clustering, int feedback,
                           double precision_criterion, double logzero, int max_ndead,
                           double boost_posterior, bool posteriors, bool equals,
                           bool cluster_posteriors, bool write_resume, bool write_paramnames,
                           bool read_resume, bool write_stats, bool write_live, bool write_dead,
                           bool write_prior, bool maximise, double compression_factor,
                           bool synchronous, int nDims, int nDerived, char *base_dir,
                           char *file_root, int nGrade, double *grade_frac, int *grade_dims,
                           int n_nlives, double *loglikes, int *nlives, int seed,
#ifdef __cplusplus
                           int &comm
#else
                           int *comm
#endif
);

/** A dumper that does nothing (PolyChord calls the one it is given; it must not be null). */
static inline void spinflip_polychord_no_dumper(int n_dead, int n_live, int n_pars, double *live,
                                                double *dead, double *logweights, double log_z,
                                                double log_z_err) {
    (void)n_dead, (void)n_live, (void)n_pars, (void)live, (void)dead, (void)logweights;
    (void)log_z, (void)log_z_err;
}

/**
 * Run PolyChord on `like`: `nlive` live points, stopping at `precision_criterion` (PolyChord's
 * default 1e-3), writing `base_dir`/`file_root`.txt (weighted posterior), _equal_weights.txt,
 * .stats, _dead.txt and _prior.txt; `base_dir` must exist (PolyChord stops the program
 * otherwise); `seed` < 0 seeds from the clock. The other settings are PolyChord's defaults:
 * num_repeats = 5 nDims, no clustering, feedback 1, logzero -1e30, one grade. Returns
 * SPINFLIP_INVALID_ARGUMENT without starting PolyChord if the configuration fixes a parameter
 * (PolyChord samples them all), the status of a failed spinflip call, or SPINFLIP_OK when
 * PolyChord has finished; the likelihood is registered for the run only.
 */
static inline enum SpinflipStatus spinflip_polychord_run(struct SpinflipLikelihood *like, int nlive,
                                                         double precision_criterion,
                                                         const char *base_dir,
                                                         const char *file_root, int seed) {
    size_t n_dims = 0, n_params = 0;
    enum SpinflipStatus s = spinflip_n_dims(like, &n_dims);
    if (s == SPINFLIP_OK) s = spinflip_n_params(like, &n_params);
    if (s != SPINFLIP_OK) return s;
    if (n_dims != n_params || n_dims == 0) return SPINFLIP_INVALID_ARGUMENT;
    s = spinflip_polychord_register(like);
    if (s != SPINFLIP_OK) return s;
    int nd = (int)n_dims, comm = 0;
    double grade_frac[1] = {1.0};
    int grade_dims[1] = {nd};
    polychord_c_interface(spinflip_polychord_loglike, spinflip_polychord_prior,
                          spinflip_polychord_no_dumper, nlive, 5 * nd, -1, -1,
                          /* do_clustering */ false, /* feedback */ 1, precision_criterion,
                          /* logzero */ -1e30, /* max_ndead */ -1, /* boost_posterior */ 0.0,
                          /* posteriors */ true, /* equals */ true,
                          /* cluster_posteriors */ false, /* write_resume */ false,
                          /* write_paramnames */ false, /* read_resume */ false,
                          /* write_stats */ true, /* write_live */ false, /* write_dead */ true,
                          /* write_prior */ true, /* maximise */ false,
                          /* compression_factor = exp(-1) */ 0.36787944117144233,
                          /* synchronous */ true, nd, /* nDerived */ 0, (char *)base_dir,
                          (char *)file_root, 1, grade_frac, grade_dims, 0, NULL, NULL, seed,
#ifdef __cplusplus
                          comm
#else
                          &comm
#endif
    );
    return spinflip_polychord_register(NULL);
}

#ifdef __cplusplus
}  // extern "C"
#endif

#endif /* SPINFLIP_POLYCHORD_H */
