"""Every record evx extracts from the development files, one JSON line each, in a stable order.

A refactor meant to change speed, not results, is checked by dumping before and after and
comparing the files byte for byte:

    python bench/records_dump.py > before.jsonl
    ... change the code ...
    python bench/records_dump.py > after.jsonl && cmp before.jsonl after.jsonl

It reads the shared breast abstracts, the crc-dev texts, the seed texts and the format samples
(``../shared/corpus``; ``--shared`` to point elsewhere), and also dumps each document's sections,
sentences and abbreviations, so a change to segmentation shows too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FOLDERS = ("pico-breast", "crc-dev", "seed", "formats")


def _files(shared: Path) -> list[Path]:
    found = []
    for folder in FOLDERS:
        root = shared / "corpus" / folder
        found += [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() not in {".ann", ".md", ".json"}
                  and "gold" not in p.parts]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    from pipeline.extract import analyse
    from pipeline.readers import read_path

    out = sys.stdout
    for path in _files(args.shared):
        try:
            documents = list(read_path(path))
        except Exception as error:  # a file the readers refuse is part of the picture, not a crash
            out.write(json.dumps({"file": str(path.relative_to(args.shared)), "error": str(error)}) + "\n")
            continue
        for document in documents:
            analysis = analyse(document)
            head = {"file": str(path.relative_to(args.shared)), "source": document.source,
                    "sections": [dataclasses.astuple(s) for s in analysis.sections],
                    "sentences": [dataclasses.astuple(s) for s in analysis.sentences],
                    "abbreviations": [dataclasses.astuple(a) for a in analysis.abbreviations]}
            out.write(json.dumps(head, default=str) + "\n")
            for record in analysis.records:
                out.write(json.dumps(dataclasses.asdict(record), default=str, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
