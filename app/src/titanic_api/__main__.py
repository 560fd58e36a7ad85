"""``python -m titanic_api`` is the ``titanic-api`` command."""

import sys

from .cli import main

sys.exit(main())
