"""Instructions evx spends analysing abstracts, counted by callgrind: a measure of speed that does
not drift with what else the machine is doing (wall-clock timings on a shared 2-core VM drift by
±40%; the instruction count of the same code on the same files is the same to 0.01%).

As in ``bench/speed.py``, the pipeline first reads other files, untimed (``--warm`` abstracts from
the end of the folder), then the counted ones (``--timed`` from its start), so what is counted is
a pipeline that has seen words of the field but not these files. Only the counted part runs
under instrumentation (callgrind_control switches it on and off), so start-up is not counted.

    python bench/instructions.py                     # this tree
    python bench/instructions.py --compare 361bb2d   # and a commit, checked out apart, with its ratio
    python bench/instructions.py --ingest --compare 361bb2d   # the whole ingest, store included

Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ABSTRACTS = HERE.parent.parent / "shared" / "corpus" / "pico-breast"

# Run inside valgrind, in the tree measured: warm up, say so, wait for the go, analyse, say so.
CHILD = r"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
from pipeline.readers import read_path
from pipeline import extract
files = sorted(Path(sys.argv[1]).glob("*.txt"))
documents = [d for f in files for d in read_path(f)]
warm, timed = documents[-int(sys.argv[2]):], documents[: int(sys.argv[3])]
for d in warm:
    extract.analyse(d)
signal = Path(sys.argv[4])
(signal / "ready").touch()
while not (signal / "go").exists():
    time.sleep(0.1)
for d in timed:
    extract.analyse(d)
(signal / "done").touch()
while not (signal / "exit").exists():
    time.sleep(0.1)
"""


# ``--ingest``: the whole of a one-worker ingest instead (reading, hashing, analysis, rows, the
# SQLite store and its change log), of the timed abstracts copied into a folder of their own,
# into a fresh database; the warm-up is an ingest too, into another database.
CHILD_INGEST = r"""
import os, shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
from pipeline.ingest import ingest
files = sorted(Path(sys.argv[1]).glob("*.txt"))
tmp = Path(tempfile.mkdtemp())
for name, chosen in (("warm", files[-int(sys.argv[2]):]), ("timed", files[: int(sys.argv[3])])):
    (tmp / name).mkdir()
    for f in chosen:
        shutil.copyfile(f, tmp / name / f.name)
ingest([tmp / "warm"], tmp / "warm.db", workers=1)
signal = Path(sys.argv[4])
(signal / "ready").touch()
while not (signal / "go").exists():
    time.sleep(0.1)
ingest([tmp / "timed"], tmp / "timed.db", workers=1)
(signal / "done").touch()
while not (signal / "exit").exists():
    time.sleep(0.1)
shutil.rmtree(tmp)
"""


def count(tree: Path, abstracts: Path, warm: int, timed: int, child_code: str = CHILD) -> int:
    """Instructions of analysing ``timed`` abstracts with the code of ``tree``."""
    with tempfile.TemporaryDirectory() as tmp:
        signal, out = Path(tmp), Path(tmp) / "callgrind.out"
        env = dict(os.environ, PYTHONHASHSEED="0")  # the same set orders every run
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, "-c", child_code, str(abstracts), str(warm), str(timed), str(signal)],
            cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for step, then in (("ready", "on"), ("done", "off")):
                while not (signal / step).exists():
                    if child.poll() is not None:
                        raise SystemExit(f"{tree}: the analysis stopped (exit {child.returncode})")
                    time.sleep(0.5)
                subprocess.run(["callgrind_control", "-i", then, str(child.pid)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                (signal / ("go" if step == "ready" else "exit")).touch()
            child.wait()
        finally:
            if child.poll() is None:
                child.kill()
        totals = re.search(r"^totals:\s*(\d+)", out.read_text(), re.MULTILINE)
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--abstracts", type=Path, default=ABSTRACTS, help="folder of .txt abstracts")
    parser.add_argument("--warm", type=int, default=100, help="abstracts read first, not counted")
    parser.add_argument("--timed", type=int, default=150, help="abstracts counted")
    parser.add_argument("--compare", metavar="REV", help="also count this commit's code, and the ratio")
    parser.add_argument("--ingest", action="store_true",
                        help="count a whole one-worker ingest (read, analyse, store) instead of the analysis alone")
    args = parser.parse_args()
    child = CHILD_INGEST if args.ingest else CHILD
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    repo = HERE.parent
    here = count(repo, args.abstracts.resolve(), args.warm, args.timed, child)
    print(f"this tree: {here:,} instructions for {args.timed} abstracts ({here / args.timed:,.0f} each)")
    if args.compare:
        with tempfile.TemporaryDirectory() as tmp:
            other = Path(tmp) / "tree"
            subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(other), args.compare],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                then = count(other, args.abstracts.resolve(), args.warm, args.timed, child)
            finally:
                subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(other)], check=False)
        print(f"{args.compare}: {then:,} instructions; this tree / {args.compare}: {here / then:.3f}")


if __name__ == "__main__":
    main()
