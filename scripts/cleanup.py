#!/usr/bin/env python3
"""Delete this project's SageMaker resources (and, with --delete-stacks, its stacks): back to $0 running."""

import sys

from mysfits.aws.cleanup_cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="cleanup.py"))
