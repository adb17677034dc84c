"""evx: evidence extraction for oncology literature (HER2-targeted therapy first)."""

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("evx")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

# Runs log to "evx"; the command line attaches a file with --log. A library stays silent.
logging.getLogger("evx").addHandler(logging.NullHandler())
