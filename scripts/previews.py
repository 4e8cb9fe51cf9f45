#!/usr/bin/env python3
"""Draw the twelve link-preview pictures, web/previews/<slug>.png (1200 x 630): `make previews`.

Each shows the Mysfit as the page draws it (web/avatars.js, the same code), with its name and species, so a shared
result's preview (the og:image of m/<slug>.html, see src/mysfits/page_previews.py) is the Mysfit it names. Drawn
by Debian's chromium through Playwright from the files alone: no server, nothing fetched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mysfits.page_previews import preview_path
from mysfits_api.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
CHROMIUM = "/usr/bin/chromium"

CARD = """<!doctype html><html><head><style>
  html, body { margin: 0; width: 1200px; height: 630px; }
  body { display: flex; align-items: center; gap: 64px; padding: 0 80px; box-sizing: border-box;
    font-family: system-ui, sans-serif; color: #1f2a44; background: #f4f0fd; }
  #avatar { width: 420px; flex: none; }
  #avatar svg { display: block; width: 100%; height: auto; border-radius: 50%; }
  .brand { font-size: 30px; font-weight: 700; color: #5b3cc4; letter-spacing: 0.02em; }
  h1 { margin: 12px 0 4px; font-size: 96px; line-height: 1.05; }
  .species { font-size: 40px; color: #4f5a73; }
  .ask { margin-top: 48px; font-size: 34px; font-weight: 650; }
</style></head><body><div id="avatar"></div><div>
  <div class="brand">✦ Mythical Mysfits</div><h1 id="name"></h1><div class="species" id="species"></div>
  <div class="ask">Which Mysfit is yours?</div></div></body></html>"""


def main() -> int:
    from playwright.sync_api import sync_playwright

    catalog = load_catalog()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 630}, device_scale_factor=1)
            page.set_content(CARD)
            page.add_script_tag(content=(WEB / "avatars.js").read_text("utf-8"))
            for mysfit in catalog:
                page.evaluate(
                    """([species, name]) => {
                      document.getElementById("avatar").replaceChildren(window.MysfitAvatars.draw(species, name));
                      document.getElementById("name").textContent = name;
                      document.getElementById("species").textContent = `the ${species}`;
                    }""",
                    [mysfit.species, mysfit.name],
                )
                out = WEB / preview_path(mysfit)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=out)
                print(f"wrote {out.relative_to(ROOT)}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
