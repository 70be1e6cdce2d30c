"""ctypes declarations for libessay's public header, ``include/essay.h``.

Declarations only: the structure mirrors, one ``c_void_p`` subclass per
handle type, the callback types, and :data:`FUNCTIONS`, the prototype of
every ``ESSAY_API`` function (``name: (restype, argtypes)``).  Finding and
loading the shared library is :mod:`essay._library`'s job; the Pythonic
layer lives in the other modules.

Functions are bound lazily (on first use) by :class:`essay._library.Library`,
so a library that lacks a symbol still imports and only the calls that need
the missing function fail.  ``tests/python/test_ffi.py`` checks that every
``ESSAY_API`` name of the header appears here, and that the structure sizes
match what the header implies.
"""

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_int, c_size_t, c_uint, c_uint32, c_uint64, c_void_p)

__all__ = [
    "VERSION_MAJOR", "FUNCTIONS",
    "OK", "EINVAL", "ENOMEM", "EIO", "ESYNTAX", "ECORRUPT", "EVERSION",
    "ENOTFOUND", "ELIMIT", "EICU",
    "LANG_EN", "LANG_ZH",
    "EssayError", "EssayToken", "EssaySpan", "EssayHit", "EssayIndexStats",
    "EssayCorpusOptions", "EssayBuildOptions", "EssaySearchOptions",
    "CorpusP", "ArticleP", "ParagraphP", "IndexP", "ResultsP",
    "TokenCallback", "ProgressCallback",
]

# -- constants (mirrors of the header's macros and enums) ---------------------

#: The library major version this package is written against.
VERSION_MAJOR = 0

# essay_status: values pinned forever by the header.
OK = 0
EINVAL = -1
ENOMEM = -2
EIO = -3
ESYNTAX = -4
ECORRUPT = -5
EVERSION = -6
ENOTFOUND = -7
ELIMIT = -8
EICU = -9

# essay_lang
LANG_EN = 0
LANG_ZH = 1

ERROR_PATH_MAX = 256
ERROR_MESSAGE_MAX = 512

CORPUS_LENIENT = 1
CORPUS_OPTIONS_VERSION = 1

TOKEN_WORD = 1
TOKEN_EXACT = 2
TOKEN_COMPOUND = 3
TOKEN_HAN_WORD = 4
TOKEN_HAN_UNIGRAM = 5
TOKEN_HAN_BIGRAM = 6
TOKEN_OTHER = 7
TOKEN_KIND_MASK = 0x0F
TOKEN_COLOCATED = 0x10
TOKENIZE_DOCUMENT = 0
TOKENIZE_QUERY = 1

BUILD_OPTIONS_VERSION = 1
SEARCH_OPTIONS_VERSION = 1
SEARCH_NO_PAIR = 1
SEARCH_NO_HIGHLIGHT = 2
OPEN_TRUSTED = 1

MAX_QUERY_BYTES = 4096
MAX_QUERY_TERMS = 64
MAX_RESULTS = 100000

SIZE_MAX = ctypes.c_size_t(-1).value

# -- handles: one type per opaque pointer, so one cannot pass as another ------


class _Handle(c_void_p):
    """Base of the opaque handle types.  ``from_param`` accepts only an
    instance of the exact handle class (or None for NULL), so passing a
    results pointer where an index is expected raises ``ctypes.ArgumentError``
    instead of crashing."""

    @classmethod
    def from_param(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        raise TypeError("expected %s, got %s" % (cls.__name__, type(obj).__name__))

    def __bool__(self):
        return self.value is not None


class CorpusP(_Handle):
    """``essay_corpus *`` (owned, or borrowed from an index)."""


class ArticleP(_Handle):
    """``const essay_article *`` (borrowed from a corpus)."""


class ParagraphP(_Handle):
    """``const essay_paragraph *`` (borrowed from a corpus)."""


class IndexP(_Handle):
    """``essay_index *`` (owned)."""


class ResultsP(_Handle):
    """``essay_results *`` (owned)."""


# -- structures (layouts are ABI) ---------------------------------------------


class EssayError(Structure):
    """``essay_error``: caller-owned, fixed-size error report."""
    _fields_ = [
        ("code", c_int),
        ("line", c_uint32),
        ("column", c_uint32),
        ("offset", c_uint64),
        ("path", c_char * ERROR_PATH_MAX),
        ("message", c_char * ERROR_MESSAGE_MAX),
    ]


class EssayCorpusOptions(Structure):
    """``essay_corpus_options``."""
    _fields_ = [
        ("version", c_uint),
        ("flags", c_uint),
        ("max_bytes", c_uint64),
    ]


class EssayToken(Structure):
    """``essay_token``: valid during the callback only."""
    _fields_ = [
        ("term", ctypes.POINTER(c_char)),
        ("term_len", c_size_t),
        ("start", c_size_t),
        ("end", c_size_t),
        ("position", c_uint32),
        ("flags", c_uint),
    ]


#: ``int (*essay_token_cb)(void *payload, const essay_token *token)``
TokenCallback = CFUNCTYPE(c_int, c_void_p, POINTER(EssayToken))

#: ``void (*essay_progress_cb)(void *payload, uint64_t done, uint64_t total)``
ProgressCallback = CFUNCTYPE(None, c_void_p, c_uint64, c_uint64)


class EssayBuildOptions(Structure):
    """``essay_build_options``."""
    _fields_ = [
        ("version", c_uint),
        ("threads", c_uint),
        ("progress", ProgressCallback),
        ("progress_payload", c_void_p),
    ]


class EssaySearchOptions(Structure):
    """``essay_search_options``."""
    _fields_ = [
        ("version", c_uint),
        ("limit", c_size_t),
        ("offset", c_size_t),
        ("lang", c_int),
        ("snippet_bytes", c_size_t),
        ("flags", c_uint),
    ]


class EssaySpan(Structure):
    """``essay_span``: bytes [start, end) of a paragraph's text."""
    _fields_ = [
        ("start", c_size_t),
        ("end", c_size_t),
    ]


class EssayHit(Structure):
    """``essay_hit``: filled by essay_results_hit(); pointers borrow from
    the results."""
    _fields_ = [
        ("essay", POINTER(c_char)),
        ("essay_len", c_size_t),
        ("lang", c_int),
        ("para", c_size_t),
        ("score", c_double),
        ("text", POINTER(c_char)),
        ("text_len", c_size_t),
        ("highlights", POINTER(EssaySpan)),
        ("n_highlights", c_size_t),
        ("snippet_start", c_size_t),
        ("snippet_end", c_size_t),
        ("has_pair", c_int),
        ("pair_lang", c_int),
        ("pair_para", c_size_t),
        ("pair_text", POINTER(c_char)),
        ("pair_text_len", c_size_t),
        ("pair_highlights", POINTER(EssaySpan)),
        ("n_pair_highlights", c_size_t),
    ]


class EssayIndexStats(Structure):
    """``essay_index_stats``."""
    _fields_ = [
        ("essays", c_uint64),
        ("paragraphs", c_uint64 * 2),
        ("terms", c_uint64),
        ("postings", c_uint64),
        ("positions", c_uint64),
        ("text_bytes", c_uint64),
        ("index_bytes", c_uint64),
        ("format_version", c_uint32),
        ("icu_version", c_char * 16),
        ("unicode_version", c_char * 16),
    ]


# -- functions ------------------------------------------------------------------

_err = POINTER(EssayError)
_sz = POINTER(c_size_t)
_text = POINTER(c_char)   # returned text: (pointer, length), copied with string_at

#: Every ESSAY_API function: name -> (restype, argtypes), in header order.
FUNCTIONS = {
    # version
    "essay_version_number": (c_int, []),
    "essay_version_string": (c_char_p, []),
    # errors
    "essay_strerror": (c_char_p, [c_int]),
    # corpus
    "essay_corpus_options_init": (c_int, [POINTER(EssayCorpusOptions), c_uint]),
    "essay_corpus_parse": (c_int, [POINTER(CorpusP), c_char_p, c_size_t, c_char_p,
                                   POINTER(EssayCorpusOptions), _err]),
    "essay_corpus_load": (c_int, [POINTER(CorpusP), POINTER(c_char_p), c_size_t,
                                  POINTER(EssayCorpusOptions), _err]),
    "essay_corpus_default": (c_int, [POINTER(CorpusP), _err]),
    "essay_corpus_free": (None, [CorpusP]),
    "essay_corpus_article_count": (c_size_t, [CorpusP]),
    "essay_corpus_article_at": (ArticleP, [CorpusP, c_size_t]),
    "essay_corpus_find": (ArticleP, [CorpusP, c_char_p, c_size_t]),
    "essay_corpus_paragraph_count": (c_size_t, [CorpusP]),
    "essay_corpus_warning_count": (c_size_t, [CorpusP]),
    "essay_corpus_warning_at": (_err, [CorpusP, c_size_t]),
    "essay_article_id": (_text, [ArticleP, _sz]),
    "essay_article_title": (_text, [ArticleP, c_int, _sz]),
    "essay_article_paragraph_count": (c_size_t, [ArticleP, c_int]),
    "essay_article_paragraph": (ParagraphP, [ArticleP, c_int, c_size_t]),
    "essay_article_is_aligned": (c_int, [ArticleP]),
    "essay_article_source": (c_char_p, [ArticleP, POINTER(c_uint32)]),
    "essay_paragraph_article": (ArticleP, [ParagraphP]),
    "essay_paragraph_lang": (c_int, [ParagraphP]),
    "essay_paragraph_index": (c_size_t, [ParagraphP]),
    "essay_paragraph_text": (_text, [ParagraphP, _sz]),
    "essay_paragraph_pair": (ParagraphP, [ParagraphP]),
    "essay_paragraph_ordinal": (c_size_t, [ParagraphP]),
    "essay_corpus_paragraph_at": (ParagraphP, [CorpusP, c_size_t]),
    # analysis
    "essay_tokenize": (c_int, [c_char_p, c_size_t, c_uint, TokenCallback, c_void_p,
                               _err]),
    # index and search
    "essay_index_build": (c_int, [POINTER(IndexP), CorpusP,
                                  POINTER(EssayBuildOptions), _err]),
    "essay_index_build_file": (c_int, [CorpusP, c_char_p, POINTER(EssayBuildOptions),
                                       _err]),
    "essay_index_default": (c_int, [POINTER(IndexP), _err]),
    "essay_index_free": (None, [IndexP]),
    "essay_index_corpus": (CorpusP, [IndexP, _err]),
    "essay_index_search": (c_int, [IndexP, c_char_p, c_size_t,
                                   POINTER(EssaySearchOptions), POINTER(ResultsP),
                                   _err]),
    "essay_results_count": (c_size_t, [ResultsP]),
    "essay_results_total": (c_size_t, [ResultsP]),
    "essay_results_hit": (c_int, [ResultsP, c_size_t, POINTER(EssayHit)]),
    "essay_results_free": (None, [ResultsP]),
    # index files
    "essay_index_save": (c_int, [IndexP, c_char_p, _err]),
    "essay_index_open": (c_int, [POINTER(IndexP), c_char_p, c_uint, _err]),
    "essay_index_open_memory": (c_int, [POINTER(IndexP), c_void_p, c_size_t, c_uint,
                                        _err]),
    "essay_index_image": (c_void_p, [IndexP, _sz]),
    "essay_index_stats_get": (c_int, [IndexP, POINTER(EssayIndexStats)]),
    "essay_index_warning_count": (c_size_t, [IndexP]),
    "essay_index_warning_at": (_err, [IndexP, c_size_t]),
}
