"""``python -m core``: the Digit Lens command line."""

import sys

from core.cli import main

sys.exit(main())
