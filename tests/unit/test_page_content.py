"""web/content.json is generated from the package's data; the page must never show stale questions or Mysfits."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mysfits import page_content
from mysfits_api.catalog import load_catalog
from mysfits_api.questionnaire import load_questionnaire

WEB = Path(__file__).resolve().parents[2] / "web"


def test_the_committed_file_is_what_the_generator_writes():
    committed = (WEB / "content.json").read_text("utf-8")
    assert committed == page_content.render(), (
        "web/content.json is stale: python -m mysfits.page_content web/content.json"
    )


def test_it_holds_the_questionnaire_and_the_catalog_in_label_order():
    content = json.loads((WEB / "content.json").read_text("utf-8"))
    assert content["questionnaire"] == load_questionnaire().to_dict()
    assert [m["id"] for m in content["mysfits"]] == [m.id for m in load_catalog()]
    assert "favourites" not in content["mysfits"][0]  # the generator's secret stays in the package


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.by_id: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        self._open = dict(attrs).get("id")

    def handle_data(self, data):
        if self._open:
            self.by_id[self._open] = self.by_id.get(self._open, "") + data

    def handle_endtag(self, tag):
        self._open = None


def test_the_page_carries_the_same_title_and_intro_so_nothing_moves_when_the_data_arrives():
    parser = _Texts()
    parser.feed((WEB / "index.html").read_text("utf-8"))
    questionnaire = load_questionnaire()
    assert parser.by_id["title"] == questionnaire.title
    assert parser.by_id["intro"] == questionnaire.intro


def test_the_generator_writes_the_file(tmp_path, capsys):
    out = tmp_path / "content.json"
    assert page_content.main([str(out)]) == 0
    assert out.read_text("utf-8") == page_content.render()


def test_the_generator_refuses_a_missing_directory(tmp_path, capsys):
    with pytest.raises(SystemExit):
        page_content.main([str(tmp_path / "nowhere" / "content.json")])
    assert "is not a directory" in capsys.readouterr().err
