"""``python -m datapalooza`` runs the CLI."""

import sys

from datapalooza.cli import main

sys.exit(main())
