#!/usr/bin/env python3
"""Deploy the whole AWS path into your account, check it as a visitor would, tear it down, and write a report."""

import sys

from mysfits.aws.smoke import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="smoke_aws.py"))
