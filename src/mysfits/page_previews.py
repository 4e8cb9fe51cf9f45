"""Link previews for shared results: one HTML page per Mysfit, whose own tags name it and show its picture.

Crawlers (chat apps, social sites) read a link's HTML and never run its scripts, so a result shared as
``/?a=...`` would preview like any other. A shared result's link is ``m/<slug>.html?a=...`` instead: a copy of
``index.html`` whose ``og:`` and ``twitter:`` tags are the Mysfit's, with ``web/previews/<slug>.png`` for its picture
(drawn by ``make previews`` from the page's own avatars), and a ``<base href="../">`` so the page runs as at the
root. Open Graph wants absolute URLs, and only the deploy knows the site's address, so:

- the committed ``web/m/*.html`` (what the local stack serves) carry URLs relative to the site's root; a test fails
  when they fall out of date (regenerate with ``python -m mysfits.page_previews web``);
- the upload to S3 (``mysfits.aws.website``) renders ``index.html`` and every ``m/<slug>.html`` again with the
  CloudFront URL, so the deployed tags are absolute.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from pathlib import Path

from mysfits.files import write_text_atomic
from mysfits_api.catalog import Mysfit, load_catalog

SITE_TITLE = "Which Mythical Mysfit is yours?"
_META = re.compile(r'^ *<meta (?:property|name)="(?:og|twitter):[^"]*" content="[^"]*">\n', re.MULTILINE)


def slug(mysfit: Mysfit) -> str:
    """The Mysfit's name as its page's file name: "twilight-glitter" (web/app.js makes the same)."""
    return re.sub(r"[^a-z0-9]+", "-", mysfit.name.lower())


def page_path(mysfit: Mysfit) -> str:
    return f"m/{slug(mysfit)}.html"


def preview_path(mysfit: Mysfit) -> str:
    return f"previews/{slug(mysfit)}.png"


def _tags(pairs: list[tuple[str, str]]) -> str:
    lines = []
    for name, value in pairs:
        attribute = "name" if name.startswith("twitter:") else "property"
        escaped = html.escape(value, quote=False).replace('"', "&quot;")
        lines.append(f'  <meta {attribute}="{name}" content="{escaped}">\n')
    return "".join(lines)


def _with_tags(index_html: str, tags: str, base: str | None = None) -> str:
    """``index_html`` with its og:/twitter: tags replaced by ``tags`` (after the description), and a <base>."""
    stripped = _META.sub("", index_html)
    anchor = re.search(r'<meta name="description" content="[^"]*">\n', stripped)
    if anchor is None:  # a page without the usual head: the tags go first in it
        anchor = re.search(r"<head>\n?", stripped)
    if anchor is None:
        return index_html
    head = stripped[: anchor.end()] + tags + stripped[anchor.end() :]
    if base is not None:
        head = head.replace("<head>\n", f'<head>\n  <base href="{base}">\n', 1)
    return head


def render_index(index_html: str, site_url: str = "") -> str:
    """The site's own page: the generic preview, with absolute URLs when ``site_url`` is given."""
    root = site_url.rstrip("/") + "/" if site_url else ""
    pairs = [
        ("og:title", SITE_TITLE),
        (
            "og:description",
            "Five quick questions, and a model trained on earlier visitors' choices picks the Mysfit that suits you.",
        ),
        ("og:type", "website"),
        ("og:image", f"{root}og-image.png"),
        ("og:image:alt", "Twelve Mythical Mysfits, from a chimera to a yeti"),
        ("og:image:width", "1200"),
        ("og:image:height", "630"),
    ]
    if root:
        pairs.append(("og:url", root))
    pairs.append(("twitter:card", "summary_large_image"))
    return _with_tags(index_html, _tags(pairs))


def render_mysfit(index_html: str, mysfit: Mysfit, site_url: str = "") -> str:
    """The page a result shared with ``mysfit`` links to: its tags name the Mysfit and show its picture."""
    root = site_url.rstrip("/") + "/" if site_url else "../"
    title = f"{mysfit.name} the {mysfit.species} · {SITE_TITLE}"
    pairs = [
        ("og:title", title),
        (
            "og:description",
            f"Someone took the quiz and met {mysfit.name}, the {mysfit.species}. Five quick "
            "questions: which Mysfit is yours?",
        ),
        ("og:type", "website"),
        ("og:image", f"{root}{preview_path(mysfit)}"),
        ("og:image:alt", f"{mysfit.name} the {mysfit.species}, drawn as on the page"),
        ("og:image:width", "1200"),
        ("og:image:height", "630"),
    ]
    if site_url:
        pairs.append(("og:url", f"{root}{page_path(mysfit)}"))
    pairs.append(("twitter:card", "summary_large_image"))
    page = _with_tags(index_html, _tags(pairs), base="../")
    return page.replace(
        "<title>Which Mysfit is yours? · Mythical Mysfits</title>", f"<title>{html.escape(title)}</title>", 1
    )


def render_pages(index_html: str, site_url: str = "") -> dict[str, str]:
    """Every page with preview tags, by path under the site: ``index.html`` and one ``m/<slug>.html`` per Mysfit."""
    pages = {"index.html": render_index(index_html, site_url)}
    for mysfit in load_catalog():
        pages[page_path(mysfit)] = render_mysfit(index_html, mysfit, site_url)
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mysfits.page_previews", description=__doc__.split("\n\n")[0])
    parser.add_argument("web", type=Path, help="the page's folder, normally web/ (its index.html is the base)")
    args = parser.parse_args(argv)
    index = args.web / "index.html"
    pages = render_pages(index.read_text("utf-8"))
    for path, text in pages.items():
        target = args.web / path
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, text)
    print(f"wrote {len(pages)} pages under {args.web}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
