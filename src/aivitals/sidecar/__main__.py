"""``python -m aivitals.sidecar``: the same as ``aivitals serve``."""

import sys

from .server import main

sys.exit(main())
