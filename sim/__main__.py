"""``python -m sim``: the command line (``sim.cli``), as the ``bamboo`` script runs it."""

import sys

from sim.cli import main

sys.exit(main())
