"""Serve the static page from one directory, and nothing outside it.

Requests are mapped onto files by joining cleaned path segments under the root, then
checked again after resolving symlinks, so ``..``, encoded slashes, absolute paths and
links pointing out of the directory all miss, and a symlink loop is a 404. Hidden files (``.env``, ``.git``) are
never served. A hard link inside the directory is served like any file there: it is one, and only someone who can
write into the directory can make it (who could as well copy the file in).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mysfits.local.gateway.events import HttpResponse

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
FALLBACK_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class StaticSite:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.resolve())

    def lookup(self, path: str) -> Path | None:
        """The file a decoded URL path names inside the root, or ``None``; directories mean their index.html."""
        segments = path.split("/")
        if any(s in ("..", ".") or s.startswith(".") or "\\" in s or "\x00" in s for s in segments if s):
            return None
        candidate = self.root.joinpath(*[s for s in segments if s])
        try:
            if candidate.is_dir():
                candidate = candidate / "index.html"
            resolved = candidate.resolve(strict=True)
        # OSError: also a name too long for the file system (ENAMETOOLONG); RuntimeError: pathlib's "Symlink loop"
        # (Python 3.11 and 3.12). No such file either way.
        except (OSError, RuntimeError):
            return None
        try:
            if not resolved.is_file() or not resolved.is_relative_to(self.root):
                return None
        except OSError:
            return None
        return resolved

    def response(self, url_path: str, head: bool = False) -> HttpResponse | None:
        path = self.lookup(url_path)
        if path is None:
            return None
        try:
            body = path.read_bytes()
        except OSError:  # removed or made unreadable since the look-up: a 404 like any missing file
            return None
        headers = [
            ("Content-Type", CONTENT_TYPES.get(path.suffix.lower(), FALLBACK_CONTENT_TYPE)),
            # A local development server: always revalidate so an edited file shows on reload.
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if head:
            headers.append(("Content-Length", str(len(body))))
        return HttpResponse(200, headers, b"" if head else body)
