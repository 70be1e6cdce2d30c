"""Shared helpers for the Python binding tests (not a test module).

ctest sets PYTHONPATH to bindings/python and ESSAY_LIBRARY to the library
it built; run by hand, the package's own lookup finds a build tree.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("ESSAY_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
DATA_DIR = os.path.join(SOURCE_DIR, "tests", "data")
BINDING_DIR = os.path.join(SOURCE_DIR, "bindings", "python")
HEADER = os.path.join(SOURCE_DIR, "include", "essay.h")

if BINDING_DIR not in sys.path:
    sys.path.insert(0, BINDING_DIR)

import essay  # noqa: E402  (after the path set-up above)


def has_index():
    """True when the loaded library implements index and search."""
    lib = essay._lib.lib
    return all(lib.has(n) for n in ("essay_index_default", "essay_index_search",
                                    "essay_results_hit", "essay_index_save",
                                    "essay_index_open"))


needs_index = unittest.skipUnless(
    has_index(), "libessay does not implement essay_index_*/essay_results_* yet")


#: True under a sanitizer build (ctest sets ESSAY_SANITIZED): memory figures
#: mean nothing there and venv/pip runs are needlessly slow.
SANITIZED = bool(os.environ.get("ESSAY_SANITIZED"))
not_sanitized = unittest.skipIf(SANITIZED, "sanitizer build: RSS and venv tests skipped")


def data(*parts):
    return os.path.join(DATA_DIR, *parts)


def tmpdir_root():
    """Where tests create temporary directories (the build tree under ctest)."""
    root = os.environ.get("ESSAY_TEST_TMPDIR")
    return root if root and os.path.isdir(root) else None


def rss_bytes():
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
