"""Serve the static page from one directory, and nothing outside it.

Requests are mapped onto files by joining cleaned path segments under the root, then
checked again after resolving symlinks, so ``..``, encoded slashes, absolute paths and
links pointing out of the directory all miss, and so does a symlink loop. Hidden files (``.env``, ``.git``) are
never served. A hard link inside the directory is served like any file there: it is one, as far as any file
system can tell, and whoever can place it in the page's folder can place the file itself.
"""

from __future__ import annotations

import os
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
READ_WHOLE_BYTES = 256 * 1024
"""The page's own files are a few KB and are read whole; anything bigger is sent in pieces of this size."""


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
        # OSError: also a name too long for the file system (ENAMETOOLONG). RuntimeError: a symlink loop, as
        # pathlib reports it before Python 3.13. No such file, either way.
        except (OSError, RuntimeError):
            return None
        try:
            if not resolved.is_file() or not resolved.is_relative_to(self.root):
                return None
        except OSError:
            return None
        return resolved

    def response(self, url_path: str, head: bool = False) -> HttpResponse | None:
        """The file's answer; one bigger than ``READ_WHOLE_BYTES`` comes as an open handle to send in pieces.

        Size and bytes come from one open handle, so a file replaced meanwhile is answered wholly old or wholly new.
        """
        path = self.lookup(url_path)
        if path is None:
            return None
        try:
            handle = path.open("rb")
        except OSError:  # removed or made unreadable since the look-up: as good as missing
            return None
        size = os.fstat(handle.fileno()).st_size
        headers = [
            ("Content-Type", CONTENT_TYPES.get(path.suffix.lower(), FALLBACK_CONTENT_TYPE)),
            # A local development server: always revalidate so an edited file shows on reload.
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if head or size <= READ_WHOLE_BYTES:
            with handle:
                body = b"" if head else handle.read(size)
            headers.append(("Content-Length", str(size if head else len(body))))
            return HttpResponse(200, headers, body)
        headers.append(("Content-Length", str(size)))
        return HttpResponse(200, headers, b"", stream=handle)
