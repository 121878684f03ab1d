"""``python -m dashboard``: the command line (see :mod:`dashboard.cli`)."""

import sys

from dashboard.cli import main

sys.exit(main())
