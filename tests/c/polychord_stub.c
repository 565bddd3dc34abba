/* spinflip_polychord_run (include/spinflip_polychord.h) against a stand-in for PolyChord: this
 * file defines polychord_c_interface with the header's declaration, checks the settings the
 * helper passes, and does with the callbacks what PolyChord does (prior on unit-cube points,
 * then the log-likelihood of the result), comparing every answer with spinflip's direct calls.
 * Usage: polychord_stub FREE.toml BASE_DIR [FIXED.toml]
 *   FREE.toml  a run configuration that fixes no parameter (PolyChord samples them all);
 *   FIXED.toml one that fixes some: the helper must refuse it without starting "PolyChord".
 * Prints the sum of ln L over the points and "N passed, M failed". Built by tests/c_install.rs
 * with cc -Wall -Wextra -Werror against the installed library. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "spinflip_polychord.h"
#include "check.h"

static int calls = 0;

#define NLIVE 50
#define SEED 7
#define NPOINTS 40
#define MAXD 64

static SpinflipLikelihood *like_under_test = NULL;
static const char *base_dir_expected = NULL;
static double sum_logl = 0.0;

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
                           int n_nlives, double *loglikes, int *nlives, int seed, int *comm) {
    calls++;
    size_t nd = 0;
    spinflip_n_dims(like_under_test, &nd);
    CHECK(nDims == (int)nd && nDims <= MAXD, "nDims = %d, the likelihood has %zu", nDims, nd);
    CHECK(nDerived == 0, "nDerived = %d", nDerived);
    CHECK(nlive == NLIVE && seed == SEED, "nlive %d, seed %d", nlive, seed);
    CHECK(num_repeats == 5 * nDims && nprior == -1 && nfail == -1 && max_ndead == -1,
          "num_repeats %d, nprior %d, nfail %d, max_ndead %d", num_repeats, nprior, nfail, max_ndead);
    CHECK(precision_criterion == 1e-3 && logzero == -1e30 && boost_posterior == 0.0,
          "precision %g, logzero %g, boost %g", precision_criterion, logzero, boost_posterior);
    CHECK(fabs(compression_factor - exp(-1.0)) < 1e-15, "compression_factor %.17g", compression_factor);
    CHECK(!do_clustering && !cluster_posteriors && !write_resume && !read_resume && !write_live &&
              !write_paramnames && !maximise,
          "flags that stay off");
    CHECK(posteriors && equals && write_stats && write_dead && write_prior && synchronous,
          "flags that are on");
    CHECK(feedback == 1, "feedback %d", feedback);
    CHECK(strcmp(base_dir, base_dir_expected) == 0 && strcmp(file_root, "spinflip") == 0,
          "base_dir '%s', file_root '%s'", base_dir, file_root);
    CHECK(nGrade == 1 && grade_frac[0] == 1.0 && grade_dims[0] == nDims, "one grade of all dims");
    CHECK(n_nlives == 0, "n_nlives %d", n_nlives);
    (void)loglikes, (void)nlives;
    CHECK(comm != NULL && *comm == 0, "comm");

    /* PolyChord's use of the callbacks: physical point from the cube, then its ln L. */
    double cube[MAXD], theta[MAXD], direct_theta[MAXD], phi[1];
    unsigned long state = 12345;
    for (int k = 0; k < NPOINTS && nDims <= MAXD; k++) {
        for (int i = 0; i < nDims; i++) {
            state = state * 6364136223846793005UL + 1442695040888963407UL;
            cube[i] = ((double)(state >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
        }
        prior(cube, theta, nDims);
        double logl = loglikelihood(theta, nDims, phi, nDerived);
        double direct = 0.0;
        CHECK(spinflip_prior_transform(like_under_test, cube, nd, direct_theta, nd) == SPINFLIP_OK,
              "direct prior transform");
        CHECK(memcmp(theta, direct_theta, nd * sizeof *theta) == 0, "prior callback = direct, point %d", k);
        SpinflipStatus s = spinflip_log_likelihood(like_under_test, direct_theta, nd, &direct);
        if (s == SPINFLIP_OK) {
            CHECK(logl == direct, "loglike callback %.17g = direct %.17g, point %d", logl, direct, k);
            sum_logl += logl;
        } else {
            CHECK(s == SPINFLIP_REJECTED && logl == SPINFLIP_LOGZERO, "rejected point %d answers log-zero", k);
        }
    }
    dumper(0, 0, nDims, NULL, NULL, NULL, 0.0, 0.0);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s FREE.toml BASE_DIR [FIXED.toml]\n", argv[0]);
        return 2;
    }
    base_dir_expected = argv[2];
    CHECK(spinflip_likelihood_from_config(argv[1], &like_under_test) == SPINFLIP_OK, "load %s", argv[1]);
    if (!like_under_test) return 1;
    CHECK(spinflip_polychord_run(like_under_test, NLIVE, 1e-3, argv[2], "spinflip", SEED) == SPINFLIP_OK,
          "run");
    CHECK(calls == 1, "PolyChord called once (%d)", calls);
    double theta[MAXD] = {0}, phi[1];
    CHECK(spinflip_polychord_loglike(theta, 1, phi, 0) == SPINFLIP_LOGZERO,
          "registration cleared after the run");
    spinflip_likelihood_free(like_under_test);

    if (argc > 3) {
        SpinflipLikelihood *fixed = NULL;
        CHECK(spinflip_likelihood_from_config(argv[3], &fixed) == SPINFLIP_OK, "load %s", argv[3]);
        like_under_test = fixed;
        CHECK(spinflip_polychord_run(fixed, NLIVE, 1e-3, argv[2], "spinflip", SEED) ==
                  SPINFLIP_INVALID_ARGUMENT,
              "a configuration with fixed parameters is refused");
        CHECK(calls == 1, "PolyChord not started for it");
        spinflip_likelihood_free(fixed);
    }
    printf("sum ln L over %d points = %.6f\n", NPOINTS, sum_logl);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
