"""``python -m kgaug`` runs the ``kgaug`` command (e.g. under ``torchrun -m kgaug train``)."""

import sys

from kgaug.cli import main

sys.exit(main())
