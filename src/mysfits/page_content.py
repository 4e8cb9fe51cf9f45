"""The static ``web/content.json``: the questions and the twelve Mysfits, as the page needs them.

The page reads this file from its own origin instead of asking the API, so the questions need no
API round trip and no ``config.json`` first: on a cold load they arrive together with the page's
scripts. The file is generated from the package's one copy of the data (``data/questionnaire.json``,
``data/catalog.json``) and committed; a test fails when it falls out of date. Regenerate with::

    python -m mysfits.page_content web/content.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mysfits.files import write_text_atomic
from mysfits_api.catalog import load_catalog
from mysfits_api.questionnaire import load_questionnaire

FORMAT_VERSION = 1


def page_content() -> dict:
    """The page's data: ``questionnaire`` as ``GET /questionnaire`` serves it, ``mysfits`` in label order."""
    return {
        "version": FORMAT_VERSION,
        "questionnaire": load_questionnaire().to_dict(),
        "mysfits": [mysfit.profile() for mysfit in load_catalog()],
    }


def render() -> str:
    return json.dumps(page_content(), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mysfits.page_content", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="where to write it, normally web/content.json")
    args = parser.parse_args(argv)
    if not args.out.parent.is_dir():
        parser.error(f"{args.out.parent} is not a directory")
    write_text_atomic(args.out, render())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
