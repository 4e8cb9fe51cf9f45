#!/usr/bin/env python3
"""Train the Mysfits kNN and serve it, locally (default) or on SageMaker; see --help and the README's "On AWS"."""

import sys

from mysfits.aws.train_and_deploy import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="train_and_deploy.py"))
