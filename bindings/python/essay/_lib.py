"""The process-wide :class:`essay._library.Library`, loaded at import."""

from . import _library

#: The loaded libessay (see :mod:`essay._library` for the lookup rules).
lib = _library.load()
