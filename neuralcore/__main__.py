"""``python -m neuralcore``: the same as the ``neuralcore`` command."""

import sys

from .cli import main

sys.exit(main())
