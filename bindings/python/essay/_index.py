"""Indexes and search: build, open, save, search; hits as plain data."""

import collections
import ctypes
import dataclasses
from ctypes import byref, c_size_t

from . import _ffi
from ._corpus import Corpus
from ._errors import (ClosedError, Diagnostic, QuerySyntaxError, from_struct)
from ._handle import Owner
from ._lib import lib
from ._text import LANGS, OffsetMap, lang_code, to_bytes, to_path

__all__ = ["Index", "Results", "Hit", "Pair", "Key", "IndexStats"]

#: A paragraph key: ``(essay, lang, para)``, as every interface reports it.
Key = collections.namedtuple("Key", "essay lang para")
Key.__doc__ = "Paragraph key (essay id, language 'en'/'zh', paragraph index; 0 = title)."


@dataclasses.dataclass(frozen=True)
class IndexStats:
    """Figures about an index (essay_index_stats)."""
    essays: int
    paragraphs_en: int
    paragraphs_zh: int
    terms: int             # distinct terms
    postings: int          # (term, paragraph) pairs
    positions: int         # term occurrences
    text_bytes: int        # corpus text held
    index_bytes: int       # whole image / file
    format_version: int
    icu_version: str       # ICU that built the index
    unicode_version: str   # Unicode version of that ICU

    @property
    def paragraphs(self):
        """Paragraphs over both languages."""
        return self.paragraphs_en + self.paragraphs_zh

    def as_dict(self):
        """The figures as a plain dict."""
        return dataclasses.asdict(self)


def _copy_spans(ptr, n):
    return [(ptr[i].start, ptr[i].end) for i in range(n)]


def _char_spans(raw, text, spans):
    if len(raw) == len(text):
        return list(spans)
    where = OffsetMap(raw, len(text))
    return [(where(s), where(e)) for s, e in spans]


class Pair:
    """The aligned paragraph of a hit: ``lang``, ``para``, ``text``,
    ``highlights`` (str indices into ``text``) and ``highlights_bytes``."""

    __slots__ = ("essay", "lang", "para", "text", "highlights", "highlights_bytes")

    def __init__(self, essay, lang, para, text, highlights, highlights_bytes):
        self.essay, self.lang, self.para, self.text = essay, lang, para, text
        self.highlights, self.highlights_bytes = highlights, highlights_bytes

    @property
    def key(self):
        """The pair's paragraph key."""
        return Key(self.essay, self.lang, self.para)

    def to_dict(self):
        """JSON-ready dict as the CLI prints it (highlights in bytes)."""
        return {"lang": self.lang, "para": self.para, "text": self.text,
                "highlights": [list(s) for s in self.highlights_bytes]}

    def __repr__(self):
        return "<essay.Pair %s/%s/%d>" % self.key


class Hit:
    """One search hit, copied out of the library as plain Python data.

    ``essay``, ``lang`` ("en"/"zh"), ``para`` (0 = title) and ``key``;
    ``score`` (BM25, higher is better); ``text`` (the paragraph);
    ``highlights``: sorted ``(start, end)`` str indices into ``text`` of the
    matched ranges, so ``text[s:e]`` is matched text; ``highlights_bytes``:
    the same ranges as byte offsets into the UTF-8 text (as the C API and the
    CLI's JSON report them); ``snippet``: an excerpt around the best match
    (``snippet_range`` gives its str indices into ``text``); ``pair``: a
    :class:`Pair` or None.  A hit keeps its :attr:`index` alive.
    """

    __slots__ = ("index", "essay", "lang", "para", "score", "text", "highlights",
                 "highlights_bytes", "snippet", "snippet_range", "pair")

    @property
    def key(self):
        """The hit's paragraph key ``(essay, lang, para)``."""
        return Key(self.essay, self.lang, self.para)

    def to_dict(self):
        """JSON-ready dict in the structure of ``essay search --json``
        (highlights as byte offsets, as the C CLI reports them)."""
        return {"essay": self.essay, "lang": self.lang, "para": self.para,
                "score": self.score, "text": self.text,
                "highlights": [list(s) for s in self.highlights_bytes],
                "snippet": self.snippet,
                "pair": self.pair.to_dict() if self.pair is not None else None}

    def __repr__(self):
        return "<essay.Hit %s/%s/%d score=%.4f>" % (self.essay, self.lang, self.para,
                                                    self.score)


def _make_hit(index, h):
    hit = Hit.__new__(Hit)
    hit.index = index
    hit.essay = ctypes.string_at(h.essay, h.essay_len).decode("utf-8")
    hit.lang = LANGS[h.lang]
    hit.para = h.para
    hit.score = h.score
    raw = ctypes.string_at(h.text, h.text_len)
    text = raw.decode("utf-8")
    hit.text = text
    spans = _copy_spans(h.highlights, h.n_highlights) if h.n_highlights else []
    hit.highlights_bytes = spans
    hit.highlights = _char_spans(raw, text, spans) if spans else []
    ss, se = h.snippet_start, h.snippet_end
    hit.snippet = raw[ss:se].decode("utf-8", "replace")
    if len(raw) == len(text):
        hit.snippet_range = (ss, se)
    else:
        where = OffsetMap(raw, len(text))
        hit.snippet_range = (where(ss), where(se))
    if h.has_pair:
        praw = ctypes.string_at(h.pair_text, h.pair_text_len)
        ptext = praw.decode("utf-8")
        pspans = (_copy_spans(h.pair_highlights, h.n_pair_highlights)
                  if h.n_pair_highlights else [])
        hit.pair = Pair(hit.essay, LANGS[h.pair_lang], h.pair_para, ptext,
                        _char_spans(praw, ptext, pspans) if pspans else [], pspans)
    else:
        hit.pair = None
    return hit


class Results:
    """The hits of one search, best first: a read-only sequence of
    :class:`Hit` (``len``, iteration, indexing, slicing).

    ``total`` is the number of paragraphs that matched in all (before
    ``offset`` and ``limit``); ``query`` is the query string.  The hits are
    copied out when the search returns (the native results are freed at
    once), and they keep their :class:`Index` alive.  ``close()`` drops the
    hits and the index reference; using a closed Results raises
    :class:`essay.ClosedError`.
    """

    __slots__ = ("query", "total", "index", "_hits")

    def __init__(self, query, total, index, hits):
        self.query = query
        self.total = total
        self.index = index
        self._hits = hits

    def _live(self):
        if self._hits is None:
            raise ClosedError("these results are closed")
        return self._hits

    def __len__(self):
        return len(self._live())

    def __iter__(self):
        return iter(self._live())

    def __getitem__(self, i):
        """Hit ``i`` (negative counts from the end), or a list for a slice."""
        return self._live()[i]

    def __bool__(self):
        return bool(self._live())

    @property
    def keys(self):
        """The hits' paragraph keys, in order."""
        return [h.key for h in self._live()]

    def to_dict(self):
        """JSON-ready dict identical in structure to ``essay search --json``:
        ``{"query", "total", "hits": [...]}``."""
        return {"query": self.query, "total": self.total,
                "hits": [h.to_dict() for h in self._live()]}

    def close(self):
        """Drop the hits and the reference to the index.  Idempotent."""
        self._hits = None
        self.index = None

    @property
    def closed(self):
        """True after :meth:`close`."""
        return self._hits is None

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        if self._hits is None:
            return "<essay.Results closed>"
        return "<essay.Results %r: %d of %d>" % (self.query, len(self._hits), self.total)


class Index(Owner):
    """A search index, built in memory or opened from a file.

    Make one with :meth:`default`, :meth:`build`, :meth:`open` or
    :meth:`from_bytes`; search it with :meth:`search`; browse its text with
    :attr:`corpus`; write it with :meth:`save`.  An index is immutable: any
    number of threads may search it at once (the library releases the GIL
    during the search).  ``close()`` or a ``with`` block frees it; calls made
    afterwards raise :class:`essay.ClosedError`.
    """

    _what = "index"

    def __init__(self, handle, keepalive=None):
        # Use the class methods; direct construction is internal.
        super().__init__(handle, free=lib.essay_index_free)
        self._keepalive = keepalive    # bytes an in-memory index borrows
        self._corpus = None

    # -- construction -----------------------------------------------------------

    @classmethod
    def default(cls):
        """Build the index of the library's embedded default corpus."""
        out = _ffi.IndexP()
        err = _ffi.EssayError()
        rc = lib.essay_index_default(byref(out), byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err)
        return cls(out)

    @classmethod
    def build(cls, source, threads=0, progress=None):
        """Build an index in memory.

        ``source`` is a :class:`Corpus` (which may be closed afterwards), or a
        path or list of paths to essay-format files (loaded, then freed).
        ``threads``: analysis threads, 0 = every online core.
        ``progress``: optional ``progress(done, total)`` called from the
        building thread; an exception it raises is re-raised once the build
        returns (the index is then discarded).
        """
        if isinstance(source, Corpus):
            return cls._build(source, threads, progress)
        with Corpus.load(source) as corpus:
            return cls._build(corpus, threads, progress)

    @classmethod
    def build_file(cls, source, path, threads=0, progress=None):
        """Build an index straight into the file ``path``, atomically, without
        holding it in memory (for large corpora), and return it opened.

        ``source``, ``threads`` and ``progress`` are as for :meth:`build`.
        Raises :class:`essay.EssayIOError` naming the path when it cannot be
        written (an existing file is then left as it was).
        """
        if isinstance(source, Corpus):
            cls._build(source, threads, progress, path)
        else:
            with Corpus.load(source) as corpus:
                cls._build(corpus, threads, progress, path)
        return cls.open(path, trusted=True)

    @classmethod
    def _build(cls, corpus, threads, progress, path=None):
        if threads < 0:
            raise ValueError("threads must be >= 0")
        opts = _ffi.EssayBuildOptions()
        opts.version = _ffi.BUILD_OPTIONS_VERSION
        opts.threads = threads
        failure = []
        if progress is not None:
            def on_progress(payload, done, total):
                if failure:
                    return
                try:
                    progress(done, total)
                except BaseException as exc:
                    failure.append(exc)
            cb = _ffi.ProgressCallback(on_progress)
            opts.progress = cb
        out = _ffi.IndexP()
        err = _ffi.EssayError()
        h = corpus._enter()
        try:
            if path is None:
                rc = lib.essay_index_build(byref(out), h, byref(opts), byref(err))
            else:
                rc = lib.essay_index_build_file(h, to_path(path), byref(opts), byref(err))
        finally:
            corpus._exit()
        if rc != _ffi.OK:
            if failure:
                raise failure[0]
            raise from_struct(rc, err)
        if path is not None:
            if failure:
                raise failure[0]
            return None
        index = cls(out)
        if failure:
            index.close()
            raise failure[0]
        return index

    @classmethod
    def open(cls, path, trusted=False):
        """Open an index file (memory-mapped, read-only).

        Checksums are verified unless ``trusted=True`` (O(1) open; decoding
        stays bounds-checked).  Raises :class:`essay.CorruptIndexError`,
        :class:`essay.VersionError`, :class:`essay.NotFoundError`,
        :class:`essay.EssayIOError`.
        """
        out = _ffi.IndexP()
        err = _ffi.EssayError()
        flags = _ffi.OPEN_TRUSTED if trusted else 0
        rc = lib.essay_index_open(byref(out), to_path(path), flags, byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err)
        return cls(out)

    @classmethod
    def from_bytes(cls, data, trusted=False):
        """Open an index image held in memory (what :meth:`image` returns or
        :meth:`save` writes).  The bytes are kept alive by the index."""
        data = bytes(data)
        buf = ctypes.c_char_p(data)
        out = _ffi.IndexP()
        err = _ffi.EssayError()
        flags = _ffi.OPEN_TRUSTED if trusted else 0
        rc = lib.essay_index_open_memory(byref(out), ctypes.cast(buf, ctypes.c_void_p),
                                         len(data), flags, byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err)
        return cls(out, keepalive=data)

    # -- files --------------------------------------------------------------------

    def save(self, path):
        """Write the index to ``path`` atomically (temporary file, fsync,
        rename).  Raises :class:`essay.EssayIOError` naming the path."""
        err = _ffi.EssayError()
        h = self._enter()
        try:
            rc = lib.essay_index_save(h, to_path(path), byref(err))
        finally:
            self._exit()
        if rc != _ffi.OK:
            raise from_struct(rc, err)

    def image(self):
        """The index's file image as bytes (a copy)."""
        n = c_size_t()
        h = self._enter()
        try:
            p = lib.essay_index_image(h, byref(n))
            return ctypes.string_at(p, n.value) if p else b""
        finally:
            self._exit()

    # -- facts --------------------------------------------------------------------

    @property
    def corpus(self):
        """The index's :class:`Corpus` (essays, paragraphs, pairs) to browse.
        It lives as long as the index; closing it is a no-op for the index."""
        if self._corpus is not None and not self._corpus.closed:
            return self._corpus
        err = _ffi.EssayError()
        h = self._enter()
        try:
            c = lib.essay_index_corpus(h, byref(err))
        finally:
            self._exit()
        if not c:
            raise from_struct(err.code or _ffi.ENOMEM, err)
        self._corpus = Corpus(c, parent=self)
        return self._corpus

    def stats(self):
        """Figures about the index as an :class:`IndexStats` dataclass
        (``.as_dict()`` for a dict)."""
        s = _ffi.EssayIndexStats()
        h = self._enter()
        try:
            rc = lib.essay_index_stats_get(h, byref(s))
        finally:
            self._exit()
        if rc != _ffi.OK:
            raise from_struct(rc, _ffi.EssayError())
        return IndexStats(s.essays, s.paragraphs[0], s.paragraphs[1], s.terms,
                          s.postings, s.positions, s.text_bytes, s.index_bytes,
                          s.format_version, s.icu_version.decode("ascii", "replace"),
                          s.unicode_version.decode("ascii", "replace"))

    @property
    def warnings(self):
        """Warnings raised when the index was opened, as a list of
        :class:`essay.Diagnostic` (e.g. built by another ICU version)."""
        h = self._enter()
        try:
            out = []
            for i in range(lib.essay_index_warning_count(h)):
                w = lib.essay_index_warning_at(h, i)
                if w:
                    out.append(Diagnostic._from_struct(w.contents))
            return out
        finally:
            self._exit()

    # -- search -------------------------------------------------------------------

    def search(self, query, lang=None, limit=10, offset=0, snippet_bytes=160,
               pair=True, highlight=True):
        """Search the index; return :class:`Results`, best first.

        ``query`` uses the library's query language (words, ``"phrases"``,
        ``prefix*``, Han runs, ``OR``, ``-not``, parentheses, ``lang:zh``,
        ``essay:0301``).  ``lang``: None (both), "en" or "zh".  ``limit``:
        most hits returned (0 = all, capped at 100000); ``offset``: hits to
        skip (paging).  ``snippet_bytes``: target snippet length in UTF-8
        bytes.  ``pair=False`` skips the aligned paragraph,
        ``highlight=False`` skips highlights and snippets (fastest).

        Raises :class:`essay.QuerySyntaxError` (``offset`` is the byte in the
        UTF-8 query, ``position`` the str index), :class:`essay.LimitError`.
        """
        raw = to_bytes(query, "query")
        opts = _ffi.EssaySearchOptions()
        opts.version = _ffi.SEARCH_OPTIONS_VERSION
        if limit < 0 or offset < 0 or snippet_bytes < 0:
            raise ValueError("limit, offset and snippet_bytes must be >= 0")
        opts.limit = limit
        opts.offset = offset
        opts.lang = -1 if lang is None else lang_code(lang)
        opts.snippet_bytes = snippet_bytes
        opts.flags = ((0 if pair else _ffi.SEARCH_NO_PAIR)
                      | (0 if highlight else _ffi.SEARCH_NO_HIGHLIGHT))
        res = _ffi.ResultsP()
        err = _ffi.EssayError()
        h = self._enter()
        try:
            rc = lib.essay_index_search(h, raw, len(raw), byref(opts), byref(res),
                                        byref(err))
            if rc != _ffi.OK:
                e = from_struct(rc, err, QuerySyntaxError)
                if isinstance(e, QuerySyntaxError):
                    e.position = len(raw[:e.offset].decode("utf-8", "replace"))
                raise e
            try:
                n = lib.essay_results_count(res)
                total = lib.essay_results_total(res)
                hit = _ffi.EssayHit()
                hits = []
                for i in range(n):
                    rc = lib.essay_results_hit(res, i, byref(hit))
                    if rc != _ffi.OK:
                        raise from_struct(rc, _ffi.EssayError())
                    hits.append(_make_hit(self, hit))
            finally:
                lib.essay_results_free(res)
        finally:
            self._exit()
        return Results(query if isinstance(query, str) else raw.decode("utf-8", "replace"),
                       total, self, hits)

    def __repr__(self):
        return "<essay.Index %s>" % ("closed" if self.closed else "open")
