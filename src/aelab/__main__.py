"""``python -m aelab`` and ``torchrun --nproc-per-node N -m aelab train ...``: the command line."""

import sys

from aelab.cli import main

sys.exit(main())
