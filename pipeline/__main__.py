"""``evx`` and ``python -m pipeline``: Ctrl-C while evx starts (importing spaCy takes a second
or two) ends it with one line too, as it does once a command runs."""

import sys


def main() -> None:
    try:
        from pipeline.cli import app

        app(prog_name="evx")
    except KeyboardInterrupt:
        sys.stderr.write("evx: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
