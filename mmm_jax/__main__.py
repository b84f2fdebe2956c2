"""``python -m mmm_jax`` runs the command line (see :mod:`mmm_jax.cli`)."""

import sys

from mmm_jax.cli import main

if __name__ == "__main__":
    sys.exit(main())
