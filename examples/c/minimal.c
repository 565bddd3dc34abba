/* Minimal spinflip C example: build a likelihood from a run config, evaluate it at the prior centre. */
#include <stdio.h>
#include <stdlib.h>
#include "spinflip.h"

int main(int argc, char **argv) {
    SpinflipLikelihood *like = NULL;
    if (argc < 2 || spinflip_likelihood_from_config(argv[1], &like) != SPINFLIP_OK) {
        fprintf(stderr, "error: %s\n", argc < 2 ? "usage: minimal CONFIG.toml" : spinflip_last_error());
        return 1;
    }
    size_t nd = 0, np = 0;
    spinflip_n_dims(like, &nd);
    spinflip_n_params(like, &np);
    double *cube = malloc(nd * sizeof *cube), *theta = malloc(np * sizeof *theta), logl = 0;
    for (size_t i = 0; i < nd; i++) cube[i] = 0.5;
    if (spinflip_prior_transform(like, cube, nd, theta, np) != SPINFLIP_OK ||
        spinflip_log_likelihood(like, theta, np, &logl) != SPINFLIP_OK)
        fprintf(stderr, "error: %s\n", spinflip_last_error());
    else
        printf("log L at the prior centre = %.6f\n", logl);
    free(cube);
    free(theta);
    return spinflip_likelihood_free(like) == SPINFLIP_OK ? 0 : 1;
}
