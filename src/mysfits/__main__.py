"""`python -m mysfits` is the same as the `mysfits` command."""

import sys

from mysfits.cli import main

sys.exit(main())
