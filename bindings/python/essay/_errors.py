"""Exceptions: one class per essay_status code, built from an essay_error.

Codes are pinned by the header, so the mapping below is stable.  The
library reports ``ESSAY_ESYNTAX`` for malformed corpus text and for
malformed queries alike; the binding knows which call failed and raises
:class:`CorpusError` or :class:`QuerySyntaxError` (both subclasses of
:class:`EssaySyntaxError`).
"""

from . import _ffi

__all__ = [
    "Error", "InvalidArgumentError", "EssayMemoryError", "EssayIOError",
    "EssaySyntaxError", "CorpusError", "QuerySyntaxError", "CorruptIndexError",
    "VersionError", "NotFoundError", "LimitError", "ICUError", "ClosedError",
    "MissingFunctionError", "Diagnostic",
]


class Error(Exception):
    """Base of every error libessay reports.

    Attributes (unknown parts are 0 or ""):

    ``code``     the essay_status value (negative), e.g. ``essay._ffi.ESYNTAX``
    ``message``  the library's complete message (``str(error)`` is the same);
                 located errors start with ``path:line:column:``
    ``path``     file name, "" for in-memory input
    ``line``     1-based line, 0 = none
    ``column``   1-based column in characters, 0 = none
    ``offset``   byte offset into the input (corpus text, query, index file)
    """

    def __init__(self, message, code=0, path="", line=0, column=0, offset=0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.line = line
        self.column = column
        self.offset = offset

    def __str__(self):
        return self.message

    @property
    def code_name(self):
        """The status code's name, e.g. ``"ESYNTAX"``."""
        return _CODE_NAMES.get(self.code, str(self.code))


class InvalidArgumentError(Error, ValueError):
    """ESSAY_EINVAL: an invalid argument or option."""


class EssayMemoryError(Error, MemoryError):
    """ESSAY_ENOMEM: the library ran out of memory."""


class EssayIOError(Error, OSError):
    """ESSAY_EIO: a file could not be read or written (an OSError too)."""


class EssaySyntaxError(Error, ValueError):
    """ESSAY_ESYNTAX: malformed input text; see the location attributes."""


class CorpusError(EssaySyntaxError):
    """ESSAY_ESYNTAX from a corpus parse or load: ``path``, ``line`` and
    ``column`` say where."""


class QuerySyntaxError(EssaySyntaxError):
    """ESSAY_ESYNTAX from a search: ``offset`` is the byte in the UTF-8 query
    and ``position`` the same place as an index into the query str."""

    position = None


class CorruptIndexError(Error):
    """ESSAY_ECORRUPT: the index file is damaged."""


class VersionError(Error):
    """ESSAY_EVERSION: the index file has an unsupported format version."""


class NotFoundError(EssayIOError, FileNotFoundError, LookupError):
    """ESSAY_ENOTFOUND: no such essay, paragraph or file.  The library
    reports it for files that do not exist, so it is also an
    :class:`EssayIOError` and a FileNotFoundError (and a LookupError)."""


class LimitError(Error, ValueError):
    """ESSAY_ELIMIT: a documented limit of the library was exceeded."""


class ICUError(Error):
    """ESSAY_EICU: ICU failed (missing data, internal error)."""


class ClosedError(Error, ValueError):
    """The object (or the index or corpus it belongs to) was closed."""


class MissingFunctionError(Error, NotImplementedError):
    """The loaded libessay does not export a function this call needs."""


_CODE_NAMES = {
    _ffi.EINVAL: "EINVAL", _ffi.ENOMEM: "ENOMEM", _ffi.EIO: "EIO",
    _ffi.ESYNTAX: "ESYNTAX", _ffi.ECORRUPT: "ECORRUPT", _ffi.EVERSION: "EVERSION",
    _ffi.ENOTFOUND: "ENOTFOUND", _ffi.ELIMIT: "ELIMIT", _ffi.EICU: "EICU",
}

_CLASSES = {
    _ffi.EINVAL: InvalidArgumentError,
    _ffi.ENOMEM: EssayMemoryError,
    _ffi.EIO: EssayIOError,
    _ffi.ESYNTAX: EssaySyntaxError,
    _ffi.ECORRUPT: CorruptIndexError,
    _ffi.EVERSION: VersionError,
    _ffi.ENOTFOUND: NotFoundError,
    _ffi.ELIMIT: LimitError,
    _ffi.EICU: ICUError,
}


def _decode(raw):
    return raw.decode("utf-8", "replace")


def from_struct(rc, err, syntax=EssaySyntaxError):
    """The exception for status ``rc`` with report ``err`` (an EssayError).
    ``syntax`` is the class to use for ESSAY_ESYNTAX."""
    cls = syntax if rc == _ffi.ESYNTAX else _CLASSES.get(rc, Error)
    message = _decode(err.message) if err.code == rc else ""
    if not message:
        message = error_string(rc)
    if err.code != rc:   # the library did not fill err: no location to report
        return cls(message, rc)
    return cls(message, rc, _decode(err.path), err.line, err.column, err.offset)


def error_string(code):
    """The library's static description of a status code (essay_strerror)."""
    from . import _lib
    s = _lib.lib.essay_strerror(code)
    return _decode(s) if s else "error %d" % code


class Diagnostic:
    """A warning (or error) report as plain data: ``code``, ``message``,
    ``path``, ``line``, ``column``, ``offset``; ``str()`` gives the message."""

    __slots__ = ("code", "message", "path", "line", "column", "offset")

    def __init__(self, code, message, path, line, column, offset):
        self.code, self.message, self.path = code, message, path
        self.line, self.column, self.offset = line, column, offset

    @classmethod
    def _from_struct(cls, e):
        return cls(e.code, _decode(e.message), _decode(e.path), e.line, e.column,
                   e.offset)

    def __str__(self):
        return self.message

    def __repr__(self):
        return "Diagnostic(%r)" % self.message

    def __eq__(self, other):
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None
