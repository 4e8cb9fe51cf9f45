"""The static site: the right files with the right types, and nothing from outside the root."""

import pytest

from mysfits.local.gateway.static import StaticSite


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "web"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html>home")
    (root / "app.js").write_text("console.log(1)")
    (root / "styles.css").write_text("body{}")
    (root / "config.json").write_text("{}")
    (root / "sub" / "index.html").write_text("sub home")
    (root / "data.bin").write_bytes(b"\x00\x01")
    (root / ".env").write_text("SECRET=1")
    (tmp_path / "outside.txt").write_text("private")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    return StaticSite(root)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/", "text/html; charset=utf-8", b"<!doctype html>home"),
        ("/index.html", "text/html; charset=utf-8", b"<!doctype html>home"),
        ("/app.js", "text/javascript; charset=utf-8", b"console.log(1)"),
        ("/styles.css", "text/css; charset=utf-8", b"body{}"),
        ("/config.json", "application/json", b"{}"),
        ("/sub/", "text/html; charset=utf-8", b"sub home"),
        ("/data.bin", "application/octet-stream", b"\x00\x01"),
    ],
)
def test_files_are_served_with_their_content_type(site, path, content_type, body):
    response = site.response(path)
    assert response.status == 200
    assert dict(response.headers)["Content-Type"] == content_type
    assert response.body == body


@pytest.mark.parametrize(
    "path",
    [
        "/../outside.txt",
        "/sub/../../outside.txt",
        "/%2e%2e/outside.txt",
        "/..%2foutside.txt",
        "/sub/..\\..\\outside.txt",
        "/.env",
        "/link.txt",
        "/missing.html",
        "/index.html%00.js",
        "//etc/passwd",
    ],
)
def test_nothing_outside_the_root_or_hidden_is_served(site, path):
    assert site.response(path) is None


def test_head_sends_the_length_without_the_body(site):
    response = site.response("/app.js", head=True)
    assert response.body == b""
    assert dict(response.headers)["Content-Length"] == str(len("console.log(1)"))


def test_a_symlink_loop_in_the_page_s_folder_is_not_found_not_a_crash(tmp_path):
    """Issue 22, item 6: `ln -s loop web/loop` gave a 500 without CORS (pathlib's RuntimeError was not caught)."""
    from mysfits.local.gateway.static import StaticSite

    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    site = StaticSite(tmp_path)
    for path in ("/loop", "/loop/index.html", "/a", "/b/x"):
        assert site.lookup(path) is None, path
        assert site.response(path) is None, path
    assert site.lookup("/") == (tmp_path / "index.html").resolve()
