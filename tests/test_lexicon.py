"""The drug lexicon cache: made once in a child process, then read; the process stays small."""

import subprocess
import sys

from pipeline.extract import lexicon


def test_drug_names_are_cached_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("EVX_CACHE_DIR", str(tmp_path))
    made = lexicon._cached_drug_dictionary()
    cached = list(tmp_path.glob("drugs-*.json"))
    assert len(cached) == 1
    assert made["trastuzumab"] == "trastuzumab" and made["herceptin"] == "trastuzumab"
    assert "placebo" not in made  # the stoplist applies

    def no_child(*args, **kwargs):
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(lexicon.subprocess, "run", no_child)
    assert lexicon._cached_drug_dictionary() == made


def test_a_corrupt_cache_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("EVX_CACHE_DIR", str(tmp_path))
    first = lexicon._cached_drug_dictionary()
    (cache,) = tmp_path.glob("drugs-*.json")
    cache.write_text('{"trunc', encoding="utf-8")  # e.g. a disk that filled up
    assert lexicon._cached_drug_dictionary() == first


def test_loading_the_lexicons_does_not_import_the_drug_package(tmp_path):
    # Importing drug_named_entity_recognition loads its whole dictionary (~350 MB).
    code = ("import sys; from pipeline.extract.lexicon import load_lexicons; load_lexicons(); "
            "print('drug_named_entity_recognition' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_cache_key_follows_evx_data(tmp_path):
    real = lexicon.DATA / "drug_stoplist.txt"
    changed = tmp_path / "drug_stoplist.txt"
    changed.write_bytes(real.read_bytes() + b"\nnewword\n")
    assert lexicon._cache_key([real]) == lexicon._cache_key([real])
    assert lexicon._cache_key([real]) != lexicon._cache_key([changed])
