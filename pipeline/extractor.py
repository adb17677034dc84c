"""The installed extractor, named without loading it.

``EXTRACTOR_VERSION`` is stored with every document and record; a refresh re-extracts the
documents stored by any other version. It is ``RULES_VERSION`` (bumped by hand when the meaning
of records changes) plus a fingerprint of everything that decides what is extracted: the
extraction and segmentation code and the lexicons in ``pipeline/data``. So an upgrade of evx
that changes a rule re-extracts on the next refresh even if nobody bumped the number. Computing
it reads a few small files and does not import spaCy, so a refresh with nothing to do stays fast.
"""

from __future__ import annotations

import hashlib
from importlib import resources

RULES_VERSION = "1.1"  # 1.1: the study model; figures carry study, arm and attribution

_PACKAGE = resources.files("pipeline")
_FINGERPRINTED = ("extract", "extract/regimens", "study", "data")  # folders whose files decide the records
_FINGERPRINTED_FILES = ("segment.py", "tokens.py", "analysis.py", "records.py")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    # (path inside the package, file): extract/regimens/records.py is not records.py
    files = [(name, _PACKAGE / name) for name in _FINGERPRINTED_FILES]
    for folder in _FINGERPRINTED:
        files += [(f"{folder}/{f.name}", f) for f in (_PACKAGE / folder).iterdir()
                  if f.is_file() and f.name.endswith((".py", ".json", ".txt"))]
    for name, file in sorted(files, key=lambda pair: pair[0]):
        digest.update(name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:10]


EXTRACTOR_VERSION = f"{RULES_VERSION}+{_fingerprint()}"


def analyse(document):
    """``pipeline.extract.analyse``, imported on first use (spaCy loads slowly)."""
    from pipeline import extract

    return extract.analyse(document)
