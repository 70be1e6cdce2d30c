"""essay - Python binding of libessay, paragraph search over a bilingual
English + Chinese essay corpus.

Pure ctypes, no compiler needed; the shared library is found as described
in :mod:`essay._library` (``ESSAY_LIBRARY``, a build tree, or the system).

    >>> import essay
    >>> with essay.Index.default() as idx:
    ...     for hit in idx.search("数学", limit=3):
    ...         print(hit.key, hit.snippet)

Objects:

- :class:`Index` - build / open / save / search; :class:`Results` of
  :class:`Hit` (with :class:`Pair`), keyed by :class:`Key`
- :class:`Corpus` of :class:`Essay` of :class:`Paragraph` - browse text
- :func:`tokenize` -> list of :class:`Token` - the analyzer's stream
- :class:`Error` and subclasses - every failure the library reports

Handles support ``close()`` and ``with``; a closed object raises
:class:`ClosedError`.  No search logic lives in Python.
"""

from . import _ffi
from ._errors import (ClosedError, CorpusError, CorruptIndexError, Diagnostic,
                      Error, EssayIOError, EssayMemoryError, EssaySyntaxError,
                      ICUError, InvalidArgumentError, LimitError, MissingFunctionError,
                      NotFoundError, QuerySyntaxError, VersionError)
from . import _lib
from ._corpus import Corpus, Essay, Paragraph
from ._tokenize import TOKEN_KINDS, Token, tokenize
from ._index import Hit, Index, IndexStats, Key, Pair, Results

__all__ = [
    "Index", "Results", "Hit", "Pair", "Key", "IndexStats",
    "Corpus", "Essay", "Paragraph",
    "tokenize", "Token", "TOKEN_KINDS",
    "Error", "InvalidArgumentError", "EssayMemoryError", "EssayIOError",
    "EssaySyntaxError", "CorpusError", "QuerySyntaxError", "CorruptIndexError",
    "VersionError", "NotFoundError", "LimitError", "ICUError", "ClosedError",
    "MissingFunctionError", "Diagnostic",
    "__version__", "library_version", "library_version_number", "library_path",
]

#: Version of this Python package.
__version__ = "0.1.0"

#: The loaded library's version string (essay_version_string()).
library_version = _lib.lib.version_string
#: The loaded library's version number (major*10000 + minor*100 + patch).
library_version_number = _lib.lib.version_number
#: Path of the loaded shared library.
library_path = _lib.lib.path

# Public classes report themselves as essay.X (not essay._module.X).
for _name in __all__:
    _obj = globals().get(_name)
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
