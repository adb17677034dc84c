"""Domain errors. The CLI turns them into one line naming the file, and an exit code."""


class EvxError(Exception):
    """Base class of every error evx raises on purpose."""


class ReaderError(EvxError):
    """A source file could not be read into documents.

    The message must say what is wrong in a few words (e.g. "encrypted PDF",
    "not UTF-8 text (invalid byte 0xff at offset 12)"); the caller adds the file name.
    """


class UnknownFormat(ReaderError):
    """The file's content matches none of the formats evx reads."""


class DocumentTooLarge(ReaderError):
    """A document's text is over the size limit (``--max-text``)."""


class TooManyFigures(EvxError):
    """A document names an endpoint in more sentences than the limit (``EVX_MAX_FIGURE_SENTENCES``)."""


class DocumentTimeout(EvxError):
    """Reading or analysing one document took longer than the allowed time."""


class FileChanged(EvxError):
    """A source file was rewritten while the run read it: what was read is not what was hashed."""
