"""The extractor version fingerprints every file that decides the records, subpackages included."""

from pathlib import Path

from pipeline import extractor


def _package(root: Path) -> Path:
    for name in extractor._FINGERPRINTED_FILES:
        (root / name).write_text("x")
    for folder in extractor._FINGERPRINTED:
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "extract" / "regimens" / "records.py").write_text("a")
    return root


def test_a_change_in_extract_regimens_changes_the_fingerprint(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(extractor, "_PACKAGE", _package(tmp_path))
    before = extractor._fingerprint()
    (tmp_path / "extract" / "regimens" / "records.py").write_text("b")
    assert extractor._fingerprint() != before


def test_files_are_told_apart_by_their_path(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(extractor, "_PACKAGE", _package(tmp_path))
    before = extractor._fingerprint()
    # the same name and bytes, moved from extract/regimens/ to extract/
    (tmp_path / "extract" / "regimens" / "records.py").unlink()
    (tmp_path / "extract" / "records.py").write_text("a")
    assert extractor._fingerprint() != before
