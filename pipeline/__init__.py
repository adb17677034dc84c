"""evx: evidence extraction for oncology literature (HER2-targeted therapy first)."""

import logging

# Runs log to "evx"; the command line attaches a file with --log. A library stays silent.
logging.getLogger("evx").addHandler(logging.NullHandler())


def __getattr__(name: str):
    # The version is looked up when asked for: importlib.metadata takes 0.1-0.2 s to import,
    # spent before ``evx`` (pipeline.__main__) can catch a Ctrl-C.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("evx")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
