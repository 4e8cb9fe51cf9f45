"""Each Mysfit's page (web/m/<slug>.html) carries its own link-preview tags, the committed copies are what the
generator writes, every preview picture is there, and the upload to S3 makes the preview URLs absolute."""

from __future__ import annotations

import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mysfits import page_previews
from mysfits.aws import website
from mysfits_api.catalog import load_catalog

WEB = Path(__file__).resolve().parents[2] / "web"
MYSFITS = load_catalog()
SITE = "https://d111111abcdef8.cloudfront.net"


class _Head(HTMLParser):
    """The page's <meta property|name> tags, its <base href> and its <title>."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.base: str | None = None
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "meta" and ("property" in found or "name" in found):
            self.meta[found.get("property") or found["name"]] = found.get("content", "")
        elif tag == "base":
            self.base = found.get("href")
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def head(text: str) -> _Head:
    parser = _Head()
    parser.feed(text)
    return parser


def test_the_committed_pages_are_what_the_generator_writes():
    index = (WEB / "index.html").read_text("utf-8")
    for path, text in page_previews.render_pages(index).items():
        assert (WEB / path).read_text("utf-8") == text, f"web/{path} is stale: python -m mysfits.page_previews web"


@pytest.mark.parametrize("mysfit", MYSFITS, ids=lambda m: m.name)
def test_each_mysfits_page_names_it_and_shows_its_own_picture(mysfit):
    tags = head((WEB / page_previews.page_path(mysfit)).read_text("utf-8"))
    assert mysfit.name in tags.meta["og:title"] and mysfit.species in tags.meta["og:title"]
    assert mysfit.name in tags.meta["og:description"] and mysfit.name in tags.title
    assert tags.meta["og:image"] == f"../previews/{page_previews.slug(mysfit)}.png"
    assert tags.meta["twitter:card"] == "summary_large_image"
    assert tags.base == "../", "the copy must load the page's files from the site's root"
    picture = WEB / page_previews.preview_path(mysfit)
    header = picture.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (1200, 630)


def test_the_twelve_pictures_differ():
    pictures = {(WEB / page_previews.preview_path(m)).read_bytes() for m in MYSFITS}
    assert len(pictures) == len(MYSFITS)


def test_with_the_sites_address_every_preview_url_is_absolute():
    index = (WEB / "index.html").read_text("utf-8")
    pages = page_previews.render_pages(index, SITE + "/")
    root = head(pages["index.html"])
    assert root.meta["og:image"] == f"{SITE}/og-image.png" and root.meta["og:url"] == f"{SITE}/"
    coco = next(m for m in MYSFITS if m.name == "CoCo")
    tags = head(pages["m/coco.html"])
    assert tags.meta["og:image"] == f"{SITE}/previews/coco.png"
    assert tags.meta["og:url"] == f"{SITE}/m/coco.html"
    assert coco.name in tags.meta["og:title"]
    assert page_previews.render_pages(pages["index.html"], SITE) == pages, "rendering again changes nothing"


def test_the_upload_sends_the_pages_with_absolute_preview_urls(moto_session, tmp_path):
    web = tmp_path / "web"
    shutil.copytree(WEB, web)
    s3 = moto_session.client("s3")
    s3.create_bucket(Bucket="site", CreateBucketConfiguration={"LocationConstraint": moto_session.region_name})
    count = website.upload_site(s3, web, "site", b"{}", SITE)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]}
    assert count == len(keys) and {"index.html", "m/coco.html", "previews/coco.png"} <= keys
    page = s3.get_object(Bucket="site", Key="m/coco.html")
    assert head(page["Body"].read().decode()).meta["og:image"] == f"{SITE}/previews/coco.png"
    assert page["CacheControl"] == "no-cache" and page["ContentType"] == "text/html; charset=utf-8"
    assert head(s3.get_object(Bucket="site", Key="index.html")["Body"].read().decode()).meta["og:url"] == SITE + "/"
    assert (web / "m" / "coco.html").read_text("utf-8") == (WEB / "m" / "coco.html").read_text("utf-8")
