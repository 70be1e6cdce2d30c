"""Finding, loading and version-checking the libessay shared library.

Lookup order (the first that applies wins):

1. ``ESSAY_LIBRARY``: the full path of the shared library.  When it is set
   and cannot be loaded, import fails; there is no silent fallback.
2. Next to the package: ``essay/libessay.so.0`` (for bundled installs).
3. A build tree: starting at the package directory and walking up to ``/``,
   then doing the same from the current directory, the first directory
   ``D`` that has any ``D/build*/libessay.so.0`` decides; among several
   build directories there (``build``, ``build-py``, ...) the most recently
   modified library is taken.
4. The system library: ``ctypes.util.find_library("essay")``, then plain
   ``libessay.so.0`` through the dynamic loader's own search path.

The loaded library must report a major version (``essay_version_number()
// 10000``) equal to :data:`essay._ffi.VERSION_MAJOR`; otherwise import
fails with an ImportError naming both versions and the path.
"""

import ctypes
import ctypes.util
import glob
import os
import sys
import threading

from . import _ffi

__all__ = ["Library", "load", "find_library_path"]

_SONAME = "libessay.so.0"
if sys.platform == "darwin":  # pragma: no cover - not a supported platform yet
    _SONAME = "libessay.0.dylib"


def _ancestors(start):
    d = os.path.abspath(start)
    while True:
        yield d
        parent = os.path.dirname(d)
        if parent == d:
            return
        d = parent


def _build_tree_candidate(start):
    for d in _ancestors(start):
        found = [p for p in glob.glob(os.path.join(d, "build*", _SONAME))
                 if os.path.isfile(p)]
        if found:
            return max(found, key=lambda p: (os.path.getmtime(p), p))
    return None


def find_library_path():
    """Return ``(path, how)`` for the library the lookup rules choose, where
    ``how`` names the rule ("ESSAY_LIBRARY", "package", "build tree",
    "system").  ``path`` may be a bare soname for the system rule."""
    env = os.environ.get("ESSAY_LIBRARY")
    if env:
        return env, "ESSAY_LIBRARY"
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.join(here, _SONAME)
    if os.path.isfile(beside):
        return beside, "package"
    for start in (here, os.getcwd()):
        p = _build_tree_candidate(start)
        if p:
            return p, "build tree"
    p = ctypes.util.find_library("essay")
    return (p or _SONAME), "system"


class Library:
    """The loaded shared library with its functions bound on first use.

    ``lib.essay_corpus_parse`` returns the ctypes function with the
    prototype from :data:`essay._ffi.FUNCTIONS`.  A function the library does
    not export raises :class:`essay.MissingFunctionError` (a NotImplementedError)
    when it is used, not when the package is imported, so a library built
    before a feature existed still serves everything else.
    """

    def __init__(self, cdll, path, how):
        self._cdll = cdll
        self.path = path
        self.how = how
        self._lock = threading.Lock()

    def has(self, name):
        """True when the library exports ``name``."""
        try:
            getattr(self._cdll, name)
        except AttributeError:
            return False
        return True

    def __getattr__(self, name):
        proto = _ffi.FUNCTIONS.get(name)
        if proto is None:
            raise AttributeError("%r is not an ESSAY_API function" % name)
        with self._lock:
            try:
                fn = getattr(self._cdll, name)
            except AttributeError:
                from ._errors import MissingFunctionError
                raise MissingFunctionError(
                    "%s is not exported by %s (a libessay built before this "
                    "function was implemented?)" % (name, self.path)) from None
            fn.restype, fn.argtypes = proto[0], list(proto[1])
            self.__dict__[name] = fn   # bound once; later lookups skip __getattr__
        return fn


def load():
    """Find, load and version-check libessay; return a :class:`Library`."""
    path, how = find_library_path()
    if how == "ESSAY_LIBRARY" and not os.path.exists(path):
        raise ImportError("ESSAY_LIBRARY=%s: no such file" % path, path=path)
    try:
        cdll = ctypes.CDLL(path)
    except OSError as e:
        hint = ("set ESSAY_LIBRARY to the full path of libessay.so.0, or build "
                "it (cmake -S . -B build && cmake --build build)")
        raise ImportError("cannot load libessay (%s, via %s): %s; %s"
                          % (path, how, e, hint), path=path) from e
    lib = Library(cdll, path, how)
    try:
        number = lib.essay_version_number()
        string = lib.essay_version_string().decode("utf-8", "replace")
    except Exception as e:
        raise ImportError("%s (via %s) is not a usable libessay: %s"
                          % (path, how, e), path=path) from e
    if number // 10000 != _ffi.VERSION_MAJOR:
        raise ImportError(
            "libessay version mismatch: %s (via %s) is version %s "
            "(essay_version_number() = %d, major %d), but this essay package "
            "needs major version %d" % (path, how, string, number, number // 10000,
                                         _ffi.VERSION_MAJOR), path=path)
    lib.version_number = number
    lib.version_string = string
    return lib
