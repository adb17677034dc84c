"""Finding the source files under folders, safely: a corpus folder may hold anything.

Symbolic links are followed only inside the folder walked (unless asked), and every entry that
cannot be used (an unreadable folder, a link loop, a name that is not UTF-8, a pipe...) is
reported with its path and a reason while the walk goes on.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("evx")

# Files that sit next to documents but are not documents: annotations, notes, code, databases.
SIDECAR_SUFFIXES = frozenset({".ann", ".json", ".md", ".py", ".pyc", ".db", ".sqlite", ".sqlite3"})

Problem = Callable[[str, str], None]
"""Told (path, reason) of each entry a walk cannot use; ``walk_folder`` gives the path relative
to the folder walked ("." for the folder itself)."""


def excluded(relative: str, patterns: Sequence[str]) -> bool:
    """Whether the entry at ``relative`` (a path inside the folder walked, "/"-separated) is
    left out by one of ``patterns``: shell globs (``*``, ``?``, ``[...]``) matched against the
    entry's name when the pattern has no "/" ("*.tmp", "drafts"), else against its whole
    relative path ("old/*.pdf"). A folder left out is not walked."""
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative if "/" in pattern else name, pattern.strip("/")) for pattern in patterns)


def iter_source_files(paths: Iterable[Path], *, follow_outside_links: bool = False,
                      problem: Problem | None = None) -> Iterator[Path]:
    """Yield the files to read: files as given, directories walked recursively in sorted order.

    In directories, hidden entries (".name") and sidecar files (SIDECAR_SUFFIXES) are skipped,
    and entries that cannot be read go to ``problem`` (see ``walk_folder``).
    A file reached twice (given twice, or also inside a given directory) is yielded once.
    """
    seen: set[str] = set()
    for path in paths:
        if path.is_dir():
            base = os.path.abspath(path)
            report = _under_folder(path, problem or _log_problem)
            names = walk_folder(path, follow_outside_links=follow_outside_links, problem=report)
            found = ((os.path.join(base, name), path / name) for name in names)
        else:
            found = iter([(os.path.abspath(path), path)])
        for key, file in found:
            if key not in seen:
                seen.add(key)
                yield file


def walk_folder(directory: Path, *, follow_outside_links: bool = False, problem: Problem | None = None,
                exclude: Sequence[str] = ()) -> Iterator[str]:
    """Paths relative to ``directory`` of the source files under it, in sorted order (hidden
    entries and sidecar files skipped). os.scandir, not Path.iterdir: a refresh walks folders
    of tens of thousands of files, and each Path and stat call counts there.

    Symbolic links are followed when they lead inside ``directory`` (anywhere, with
    ``follow_outside_links``): a corpus must not pull in /etc/passwd. What cannot be used goes
    to ``problem`` (default: logged) and the walk goes on: folders that cannot be listed,
    symbolic link loops, broken links, links leading outside, names that are not UTF-8, pipes,
    sockets and devices, entries gone while the folder was read. Entries matching a pattern
    of ``exclude`` (see ``excluded``) are left out without a word, whatever they are."""
    real = os.path.realpath(directory)
    walk = _Walk(real, follow_outside_links, problem or _log_problem, set(), tuple(exclude))
    yield from _walk(str(directory), real, "", walk)


@dataclass
class _Walk:
    root: str  # real path of the folder walked: links are judged against it
    follow_outside_links: bool
    problem: Problem
    visited: set[str]  # real paths of the folders walked
    exclude: tuple[str, ...] = ()  # globs of entries to leave out


class _Unusable(Exception):
    """An entry of a folder that cannot be read as a source file or walked as a folder."""


def _walk(directory: str, real: str, prefix: str, walk: _Walk) -> Iterator[str]:
    walk.visited.add(real)
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:  # permission denied, gone since it was listed, ...
        walk.problem(prefix.rstrip(os.sep) or ".", f"cannot read folder: {_strerror(exc)}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if walk.exclude and excluded((prefix + entry.name).replace(os.sep, "/"), walk.exclude):
            continue
        try:
            kind, target = _classify(entry, real, walk)
        except _Unusable as exc:
            walk.problem(prefix + entry.name, str(exc))
            continue
        if kind == "dir" and target not in walk.visited:  # a folder seen already: its files are found once
            yield from _walk(entry.path, target, prefix + entry.name + os.sep, walk)
        elif kind == "file":
            yield prefix + entry.name


def _classify(entry: os.DirEntry, parent: str, walk: _Walk) -> tuple[str, str]:
    """("dir", its real path), ("file", "") or ("skip", "") for a sidecar; ``_Unusable`` if
    the entry cannot be used. Plain files and folders cost no system call (scandir knows their
    type); links cost a stat and a realpath."""
    if not _is_utf8(entry.name):  # it could be read, but not stored or shown as it is
        raise _Unusable("file name is not valid UTF-8; rename it to read it")
    if entry.is_symlink():
        return _classify_link(entry, parent, walk)
    if entry.is_dir(follow_symlinks=False):
        return "dir", os.path.join(parent, entry.name)
    if _is_sidecar(entry.name):
        return "skip", ""
    if entry.is_file(follow_symlinks=False):
        return "file", ""
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except FileNotFoundError:
        raise _Unusable("gone while its folder was read") from None
    except OSError as exc:
        raise _Unusable(f"cannot read: {_strerror(exc)}") from None
    raise _Unusable(f"not a regular file ({_kind_of(mode)})")


def _classify_link(entry: os.DirEntry, parent: str, walk: _Walk) -> tuple[str, str]:
    try:
        mode = os.stat(entry.path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Unusable("symbolic link loop") from None
        if isinstance(exc, FileNotFoundError):
            raise _Unusable(f"broken symbolic link (to {_readlink(entry.path)})") from None
        raise _Unusable(f"cannot follow symbolic link: {_strerror(exc)}") from None
    is_dir = stat.S_ISDIR(mode)
    if not is_dir and _is_sidecar(entry.name):
        return "skip", ""
    target = os.path.realpath(entry.path)
    if not walk.follow_outside_links and not _inside(target, walk.root):
        raise _Unusable(f"symbolic link to {target}, outside the folder: not followed (see --follow-outside-links)")
    if is_dir:
        if _inside(parent, target):  # a link to the folder itself or one above it
            raise _Unusable(f"symbolic link loop (back to {target})")
        return "dir", target
    if stat.S_ISREG(mode):
        return "file", ""
    raise _Unusable(f"symbolic link to something not a regular file ({_kind_of(mode)})")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _is_utf8(name: str) -> bool:
    # Undecodable bytes of a file name come back as lone surrogates (PEP 383), which UTF-8 refuses.
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_sidecar(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in SIDECAR_SUFFIXES


def _kind_of(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder")]
    return next((name for test, name in kinds if test(mode)), "special file")


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _strerror(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _under_folder(folder: Path, problem: Problem) -> Problem:
    """``problem`` told paths joined to ``folder``, as iter_source_files yields them."""
    return lambda name, reason: problem(os.path.normpath(os.path.join(folder, name)), reason)


def _log_problem(path: str, reason: str) -> None:
    log.warning("skipped %s: %s", printable(path), reason)


def printable(text: str) -> str:
    """``text`` fit for one line of output: bytes of a name that are not UTF-8 shown as \\xNN,
    newlines and other control characters escaped."""
    text = storable(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def storable(text: str) -> str:
    """``text`` with the bytes of a name that are not UTF-8 shown as \\xNN, so that a database
    (UTF-8 only) can hold it; anything else unchanged."""
    if _is_utf8(text):
        return text
    try:  # undecodable bytes of a file name come back as lone surrogates (PEP 383)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name gives
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
