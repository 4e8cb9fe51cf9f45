"""The page on AWS: its own stack (website-template.yaml), the upload of web/ with a generated config.json to that
stack's bucket, then a CloudFront invalidation."""

from __future__ import annotations

import json
import mimetypes
import uuid
from pathlib import Path

from mysfits import page_previews
from mysfits.cli_base import CliError

# The page's bucket and distribution are a stack of their own, beside the API's: a new account may be refused
# CloudFront until AWS verifies it, and inside the API's stack that refusal would roll the API back too.
TEMPLATE = "website-template.yaml"
CONFIG_ENV = "website"  # samconfig.toml's [website.deploy.parameters], for `sam deploy --config-env website`
BUCKET_OUTPUT = "WebsiteBucketName"
URL_OUTPUT = "WebsiteUrl"
DISTRIBUTION_OUTPUT = "WebsiteDistributionId"


def stack_name(api_stack: str) -> str:
    """The page's stack is named after the API's, so that clean-up finds both from the one name."""
    return f"{api_stack}-website"


# One wildcard path is billed as one path, and it also covers the scripts and styles, which are cached for minutes.
INVALIDATION_PATHS = ("/*",)
# Uploaded after the assets, in this order, so the new page never refers to something not yet there.
LAST_UPLOADS = ("config.json", "index.html")


def page_config(web_dir: Path, api_url: str) -> bytes:
    """The deployed config.json: the committed one (which serves the local stack) with the API's URL filled in."""
    path = web_dir / "config.json"
    try:
        config = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{path} is not readable JSON ({exc}); it is the base of the deployed config.json") from None
    if not isinstance(config, dict):
        raise CliError(f"{path} must hold a JSON object, found {type(config).__name__}")
    return (json.dumps({**config, "apiBaseUrl": api_url}, indent=2) + "\n").encode()


def _content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    textual = guessed.startswith("text/") or guessed in {"application/javascript", "application/json"}
    return f"{guessed}; charset=utf-8" if textual else guessed


def site_keys(web_dir: Path) -> list[str]:
    """The object keys to upload, in order: assets first, then config.json, then index.html.

    A visitor who gets the new index.html then finds what it refers to. Hidden files (.DS_Store) stay home.
    """
    files = (p.relative_to(web_dir).as_posix() for p in web_dir.rglob("*") if p.is_file())
    assets = sorted(key for key in files if key not in LAST_UPLOADS and not key.rsplit("/", 1)[-1].startswith("."))
    return [*assets, *LAST_UPLOADS]


def site_pages(web_dir: Path, site_url: str) -> dict[str, bytes]:
    """The folder's index.html and m/<slug>.html pages again, with absolute preview URLs under ``site_url`` (Open
    Graph wants them absolute, and only the deploy knows the address). Only pages the folder has are rendered."""
    index = web_dir / "index.html"
    pages = page_previews.render_pages(index.read_text("utf-8"), site_url)
    return {key: text.encode("utf-8") for key, text in pages.items() if (web_dir / key).is_file()}


def upload_site(s3, web_dir: Path, bucket: str, config: bytes, site_url: str | None = None) -> int:
    """Upload the page with content types and cache lifetimes set, since S3 serves whatever it was given.

    config.json and the HTML pages are revalidated on every visit (CloudFront still keeps them for its 1 s minimum),
    so a deploy shows at once; the rest may be cached for five minutes. config.json is the generated one, and with
    ``site_url`` (the CloudFront address) so are the pages, whose link-preview tags then carry absolute URLs.
    """
    pages = site_pages(web_dir, site_url) if site_url else {}
    keys = site_keys(web_dir)
    for key in keys:
        body = config if key == "config.json" else pages.get(key) or (web_dir / key).read_bytes()
        cache = "no-cache" if key in LAST_UPLOADS or key.endswith(".html") else "max-age=300"
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=_content_type(key), CacheControl=cache)
    return len(keys)


def invalidate_site(cloudfront, distribution_id: str) -> str:
    """Ask CloudFront to drop its cached copies; returns the invalidation id (it completes within minutes)."""
    response = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(INVALIDATION_PATHS), "Items": list(INVALIDATION_PATHS)},
            "CallerReference": f"mysfits-{uuid.uuid4()}",
        },
    )
    return response["Invalidation"]["Id"]
