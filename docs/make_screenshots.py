"""Regenerate the README's pictures from the shipped example corpus:

    python docs/make_screenshots.py

ingests corpus/ into a temporary database, records one reviewer's verdict, writes the report
and the ORR forest plot, and takes a screenshot of the report in headless Chromium (Debian's
chromium, driven by Playwright; nothing is downloaded) with a row expanded to its sentence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser import launched  # noqa: E402 - after the path is set


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # In a copy of corpus/, so paths read as a user's would: corpus/..., outputs/evidence.db.
        shutil.copytree(REPO / "corpus", Path(tmp) / "corpus")

        def evx(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "pipeline", *args, "--db", "outputs/evidence.db"], cwd=tmp, check=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)})

        evx("ingest", "corpus/", "--quiet")
        evx("review", "accept", "outcome:8", "-m", "matches the abstract", "--reviewer", "docs")
        evx("report", "--out", "outputs/report", "--quiet")
        evx("plot", "--out", "outputs/plots", "--format", "png", "--endpoint", "ORR", "--quiet")
        shutil.copyfile(Path(tmp) / "outputs" / "plots" / "forest-ORR-rate-pct.png", REPO / "docs" / "forest-orr.png")
        with launched() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto((Path(tmp) / "outputs" / "report" / "index.html").as_uri())
            page.click('tr.row[data-id="8"]')
            page.screenshot(path=str(REPO / "docs" / "report.png"))


if __name__ == "__main__":
    main()
