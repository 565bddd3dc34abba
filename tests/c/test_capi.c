/* Drives the spinflip C ABI the way C codes and the MultiNest/PolyChord libraries do.
 * Usage: test_capi CONFIG.toml [REL_TOL]   (a run configuration; prints "N passed, M failed").
 * REL_TOL: how closely batched, single and concurrent ln L values must agree (default 1e-9,
 * for double-precision models; an f32 emulator evaluates batches in another summation order,
 * so its signals agree to ~1e-6 relative and ln L to about as much: tests/capi.rs passes 1e-5).
 * Built by tests/capi.rs with: cc -Wall -Wextra -Werror -pthread. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "spinflip.h"
#include "check.h"


typedef struct {
    SpinflipLikelihood *like;
    const double *theta;
    size_t n_points, n_params;
    double *out;
    int status;
} job_t;

static void *worker(void *arg) {
    job_t *j = (job_t *)arg;
    j->status = 0;
    for (size_t i = 0; i < j->n_points; i++) {
        if (spinflip_log_likelihood(j->like, j->theta + i * j->n_params, j->n_params, &j->out[i]) != SPINFLIP_OK)
            j->status = 1;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG.toml [REL_TOL]\n", argv[0]);
        return 2;
    }
    const double tol = argc > 2 ? strtod(argv[2], NULL) : 1e-9;
    if (!(tol > 0)) {
        fprintf(stderr, "REL_TOL must be a positive number\n");
        return 2;
    }
    printf("spinflip %s\n", spinflip_version());

    /* Error paths before any handle exists. */
    SpinflipLikelihood *like = NULL;
    CHECK(spinflip_likelihood_from_config(NULL, &like) == SPINFLIP_NULL_POINTER, "null path");
    CHECK(strstr(spinflip_last_error(), "null") != NULL, "message names the null pointer");
    CHECK(spinflip_likelihood_from_config("/nonexistent.toml", &like) == SPINFLIP_IO, "missing file -> IO");
    CHECK(like == NULL, "no handle on failure");

    SpinflipStatus st = spinflip_likelihood_from_config(argv[1], &like);
    CHECK(st == SPINFLIP_OK && like != NULL, "create from config (status %d)", (int)st);
    if (!like) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }

    size_t np = 0, nd = 0, nmp = 0, nout = 0;
    CHECK(spinflip_n_params(like, &np) == SPINFLIP_OK && np > 0, "n_params");
    CHECK(spinflip_n_dims(like, &nd) == SPINFLIP_OK && nd > 0 && nd <= np, "n_dims");
    CHECK(spinflip_model_shape(like, &nmp, &nout) == SPINFLIP_OK && nmp <= np && nout > 0, "model shape");
    for (size_t i = 0; i < np; i++) {
        const char *name = NULL, *latex = NULL;
        CHECK(spinflip_param_name(like, i, &name, &latex) == SPINFLIP_OK && name && strlen(name) > 0, "name %zu", i);
    }
    const char *dummy = NULL;
    CHECK(spinflip_param_name(like, np, &dummy, NULL) == SPINFLIP_INVALID_ARGUMENT, "name index out of range");

    /* Prior transform of the cube centre, then the likelihood there. */
    double *cube = calloc(np, sizeof(double)), *theta = calloc(np, sizeof(double));
    for (size_t i = 0; i < nd; i++) cube[i] = 0.5;
    CHECK(spinflip_prior_transform(like, cube, nd, theta, np) == SPINFLIP_OK, "prior transform");
    double lp = 0, ll = 0, ll2 = 0;
    CHECK(spinflip_log_prior(like, theta, np, &lp) == SPINFLIP_OK && isfinite(lp), "log prior finite inside");
    CHECK(spinflip_log_likelihood(like, theta, np, &ll) == SPINFLIP_OK && isfinite(ll), "log likelihood %g", ll);
    CHECK(spinflip_log_likelihood(like, theta, np, &ll2) == SPINFLIP_OK && ll2 == ll, "deterministic");

    /* Error paths with a handle. */
    CHECK(spinflip_log_likelihood(NULL, theta, np, &ll2) == SPINFLIP_NULL_POINTER, "null handle");
    CHECK(spinflip_log_likelihood(like, NULL, np, &ll2) == SPINFLIP_NULL_POINTER, "null theta");
    CHECK(spinflip_log_likelihood(like, theta, np - 1, &ll2) == SPINFLIP_INVALID_ARGUMENT, "wrong length");
    CHECK(strstr(spinflip_last_error(), "expected") != NULL, "length message");
    double saved = theta[0];
    theta[0] = NAN;
    CHECK(spinflip_log_likelihood(like, theta, np, &ll2) == SPINFLIP_INVALID_ARGUMENT, "NaN input");
    theta[0] = saved;
    cube[0] = 1.5;
    CHECK(spinflip_prior_transform(like, cube, nd, theta, np) == SPINFLIP_INVALID_ARGUMENT, "cube outside [0,1]");
    cube[0] = 0.5;
    CHECK(spinflip_prior_transform(like, cube, nd, theta, np) == SPINFLIP_OK, "prior transform again");

    /* A batch of prior draws: batched == single, and several threads at once == serial. */
    enum { NPTS = 16, NTHREADS = 4 };
    double *pts = calloc(NPTS * np, sizeof(double)), *batch = calloc(NPTS, sizeof(double));
    srand(3);
    for (size_t k = 0; k < NPTS; k++) {
        for (size_t i = 0; i < nd; i++) cube[i] = 0.05 + 0.9 * (double)rand() / RAND_MAX;
        spinflip_prior_transform(like, cube, nd, pts + k * np, np);
    }
    CHECK(spinflip_log_likelihood_batch(like, pts, NPTS, np, batch) == SPINFLIP_OK, "batch");
    int same = 1;
    for (size_t k = 0; k < NPTS; k++) {
        double v = 0;
        spinflip_log_likelihood(like, pts + k * np, np, &v);
        if (!(v == batch[k] || fabs(v - batch[k]) <= tol * fabs(v) || (isinf(v) && isinf(batch[k])))) same = 0;
    }
    CHECK(same, "batch equals single calls");
    pthread_t th[NTHREADS];
    job_t jobs[NTHREADS];
    double outs[NTHREADS][NPTS];
    for (int t = 0; t < NTHREADS; t++) {
        jobs[t] = (job_t){like, pts, NPTS, np, outs[t], 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    int threads_ok = 1;
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        for (size_t k = 0; k < NPTS; k++)
            if (!(outs[t][k] == batch[k] || fabs(outs[t][k] - batch[k]) <= tol * fabs(batch[k]) ||
                  (isinf(outs[t][k]) && isinf(batch[k]))))
                threads_ok = 0;
    }
    CHECK(threads_ok, "concurrent calls from %d threads agree", NTHREADS);

    /* Emulate the signal at the model parameters. */
    double *sig = calloc(nout, sizeof(double)), *grid = calloc(nout, sizeof(double));
    CHECK(spinflip_emulate(like, theta, nmp, sig, nout) == SPINFLIP_OK && isfinite(sig[0]), "emulate");
    CHECK(spinflip_model_grid(like, grid, nout) == SPINFLIP_OK && grid[nout - 1] > grid[0], "grid");
    CHECK(spinflip_emulate(like, theta, nmp, sig, nout - 1) == SPINFLIP_INVALID_ARGUMENT, "emulate wrong out length");

    /* MultiNest: cube in, physical parameters out in place, context = handle. */
    int ndim = (int)nd, npars = (int)np;
    double lnew = 0;
    double *mn = calloc(np, sizeof(double));
    for (size_t i = 0; i < nd; i++) mn[i] = 0.5;
    spinflip_multinest_loglike(mn, &ndim, &npars, &lnew, like);
    CHECK(lnew == ll, "MultiNest loglike at the centre equals the direct call (%g vs %g)", lnew, ll);
    CHECK(mn[0] == theta[0], "MultiNest cube overwritten with physical parameters");
    int bad_ndim = ndim + 1;
    spinflip_multinest_loglike(mn, &bad_ndim, &npars, &lnew, like);
    CHECK(lnew <= -1e299, "MultiNest wrong ndim -> logzero");
    CHECK(strstr(spinflip_last_error(), "ndim") != NULL, "the rejection's reason is the last error");
    /* A misconfigured sampler is told on stderr after a streak of log-zero answers (the Rust
       side of this test checks the message), and a good call ends the streak. */
    spinflip_set_rejection_warning(3);
    for (int k = 0; k < 3; k++) spinflip_multinest_loglike(mn, &bad_ndim, &npars, &lnew, like);
    CHECK(spinflip_consecutive_rejections() >= 3, "rejection streak counted");
    for (size_t i = 0; i < nd; i++) mn[i] = 0.5;
    spinflip_multinest_loglike(mn, &ndim, &npars, &lnew, like);
    CHECK(spinflip_consecutive_rejections() == 0 && lnew == ll, "a good call ends the streak");
    spinflip_set_rejection_warning(10000);

    /* PolyChord: registered active likelihood, prior then loglike. */
    if (nd == np) {
        double pc_theta[64], pc_cube[64], phi[1];
        for (size_t i = 0; i < nd; i++) pc_cube[i] = 0.5;
        CHECK(spinflip_polychord_register(like) == SPINFLIP_OK, "register");
        spinflip_polychord_prior(pc_cube, pc_theta, (int)nd);
        CHECK(pc_theta[0] == theta[0], "PolyChord prior");
        double v = spinflip_polychord_loglike(pc_theta, (int)nd, phi, 0);
        CHECK(v == ll, "PolyChord loglike equals the direct call");
        CHECK(spinflip_polychord_loglike(pc_theta, (int)nd + 1, phi, 0) <= -1e299, "PolyChord wrong nDims");
        spinflip_polychord_register(NULL);
        CHECK(spinflip_polychord_loglike(pc_theta, (int)nd, phi, 0) <= -1e299, "no active likelihood");
    }

    CHECK(spinflip_likelihood_free(like) == SPINFLIP_OK, "free");
    CHECK(spinflip_likelihood_free(NULL) == SPINFLIP_OK, "free(NULL)");
    free(cube); free(theta); free(pts); free(batch); free(sig); free(grid); free(mn);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
