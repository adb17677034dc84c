"""pipeline/data/regimen_words.json, the regimen reader's word lists, is checked on load."""

import json

import pytest

from pipeline.extract.lexicon import DATA, LexiconError
from pipeline.extract.regimens import vocabulary


def _write(tmp_path, monkeypatch, change) -> None:
    data = json.loads((DATA / vocabulary.FILE).read_text(encoding="utf-8"))
    change(data)
    (tmp_path / vocabulary.FILE).write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(vocabulary, "DATA", tmp_path)


def test_the_shipped_file_loads() -> None:
    words = vocabulary.load_words()
    assert set(words) == set(vocabulary.LISTS)
    assert list(words["class_members"]) == list(vocabulary.CLASSES)


@pytest.mark.parametrize("change", [
    lambda d: d.update(extra=1),  # unknown top-level key
    lambda d: d["lists"].update(surplus={"about": "", "example": "x", "words": ["x"]}),  # unknown list
    lambda d: d["lists"].pop("filler"),  # missing list
    lambda d: d["lists"]["arm_words"].update(note="?"),  # unknown key in a list
    lambda d: d["lists"]["arm_words"].update(example="no such word here"),  # example without its words
    lambda d: d["lists"]["arm_words"].update(words="arm"),  # words of the wrong shape
    lambda d: d["lists"]["class_members"]["words"].update(taxane=[]),  # a class without drugs
], ids=["top-key", "unknown-list", "missing-list", "list-key", "example", "shape", "empty-class"])
def test_a_malformed_file_is_rejected(tmp_path, monkeypatch, change) -> None:
    _write(tmp_path, monkeypatch, change)
    with pytest.raises(LexiconError):
        vocabulary.load_words()
