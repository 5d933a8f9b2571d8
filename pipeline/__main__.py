"""``python -m pipeline`` is the ``segments`` command."""

import sys

from pipeline.cli import main

sys.exit(main())
