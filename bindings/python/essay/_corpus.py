"""Corpora: parse, load, browse essays, paragraphs and their aligned pairs."""

import ctypes
from ctypes import byref, c_size_t, c_uint32

from . import _ffi
from ._errors import CorpusError, Diagnostic, from_struct
from ._handle import Owner
from ._lib import lib
from ._text import LANGS, lang_code, lang_name, to_bytes, to_path

__all__ = ["Corpus", "Essay", "Paragraph"]


def _string(ptr, n):
    """Copy a borrowed (pointer, length) UTF-8 text out as str."""
    return ctypes.string_at(ptr, n.value).decode("utf-8")


def _options(lenient, max_bytes=0):
    opts = _ffi.EssayCorpusOptions()
    rc = lib.essay_corpus_options_init(byref(opts), _ffi.CORPUS_OPTIONS_VERSION)
    if rc != _ffi.OK:
        raise from_struct(rc, _ffi.EssayError())
    if lenient:
        opts.flags |= _ffi.CORPUS_LENIENT
    opts.max_bytes = max_bytes
    return opts


class Corpus(Owner):
    """A parsed essay corpus: a read-only sequence of :class:`Essay`.

    Make one with :meth:`parse`, :meth:`load` or :meth:`default`, or get an
    index's corpus from :attr:`essay.Index.corpus`.  ``len(corpus)`` is the
    number of essays; iterating yields them in load order;
    ``corpus["0301"]`` looks an essay up by id (KeyError when absent) and
    ``corpus[0]`` by position.  ``corpus.warnings`` lists the parse warnings.

    A corpus is immutable and may be read from any number of threads.
    ``close()`` (or a ``with`` block) frees it; an index's corpus lives as
    long as its index.
    """

    _what = "corpus"

    def __init__(self, handle, parent=None, keepalive=None):
        # Use parse/load/default; direct construction is internal.
        super().__init__(handle, free=None if parent else lib.essay_corpus_free,
                         parent=parent)
        self._keepalive = keepalive

    # -- construction -----------------------------------------------------------

    @classmethod
    def parse(cls, text, name=None, lenient=False):
        """Parse essay-format ``text`` (str or UTF-8 bytes) held in memory.

        ``name`` is used in error locations (the library says "<memory>" when
        it is None).  ``lenient=True`` replaces invalid UTF-8 with U+FFFD and
        reports a warning instead of failing.

        Raises :class:`essay.CorpusError` (with ``line`` and ``column``) for
        malformed text, :class:`essay.LimitError` for over-long input.
        """
        raw = to_bytes(text)
        cname = None if name is None else to_bytes(name, "name")
        out = _ffi.CorpusP()
        err = _ffi.EssayError()
        opts = _options(lenient)
        rc = lib.essay_corpus_parse(byref(out), raw, len(raw), cname, byref(opts),
                                    byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err, CorpusError)
        return cls(out)

    @classmethod
    def load(cls, paths, lenient=False):
        """Load a corpus from one file or a list of files (str or path-like),
        in order; essay ids must be unique across them.

        Raises :class:`essay.CorpusError` for malformed text,
        :class:`essay.NotFoundError` / :class:`essay.EssayIOError` for a file
        that cannot be read.
        """
        if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
            paths = [paths]
        encoded = [to_path(p) for p in paths]
        array = (ctypes.c_char_p * max(1, len(encoded)))(*encoded)
        out = _ffi.CorpusP()
        err = _ffi.EssayError()
        opts = _options(lenient)
        rc = lib.essay_corpus_load(byref(out), array, len(encoded), byref(opts),
                                   byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err, CorpusError)
        return cls(out)

    @classmethod
    def default(cls):
        """The default corpus embedded in the library (essay 0301, ...)."""
        out = _ffi.CorpusP()
        err = _ffi.EssayError()
        rc = lib.essay_corpus_default(byref(out), byref(err))
        if rc != _ffi.OK:
            raise from_struct(rc, err, CorpusError)
        return cls(out)

    # -- browsing ---------------------------------------------------------------

    def _article(self, h, a):
        if not a:
            return None
        n = c_size_t()
        ident = _string(lib.essay_article_id(a, byref(n)), n)
        return Essay(self, a, ident)

    def __len__(self):
        h = self._enter()
        try:
            return lib.essay_corpus_article_count(h)
        finally:
            self._exit()

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key):
        """``corpus["0301"]`` by id (KeyError when absent) or ``corpus[i]`` by
        position (IndexError; negative indices count from the end)."""
        h = self._enter()
        try:
            if isinstance(key, str):
                raw = key.encode("utf-8")
                a = lib.essay_corpus_find(h, raw, len(raw))
                if not a:
                    raise KeyError(key)
                return self._article(h, a)
            if isinstance(key, int):
                n = lib.essay_corpus_article_count(h)
                i = key + n if key < 0 else key
                if not 0 <= i < n:
                    raise IndexError("essay index %d out of range (%d essays)" % (key, n))
                return self._article(h, lib.essay_corpus_article_at(h, i))
            raise TypeError("corpus keys are essay ids (str) or positions (int)")
        finally:
            self._exit()

    def __contains__(self, ident):
        return self.get(ident) is not None if isinstance(ident, str) else False

    def get(self, ident, default=None):
        """The essay with id ``ident``, or ``default``."""
        try:
            return self[ident]
        except KeyError:
            return default

    @property
    def ids(self):
        """Essay ids in load order."""
        return [e.id for e in self]

    @property
    def paragraph_count(self):
        """Number of paragraphs over all essays and both languages."""
        h = self._enter()
        try:
            return lib.essay_corpus_paragraph_count(h)
        finally:
            self._exit()

    def paragraph(self, ordinal):
        """The paragraph with this corpus-wide ordinal (dense in
        ``range(paragraph_count)``); IndexError when out of range."""
        h = self._enter()
        try:
            p = lib.essay_corpus_paragraph_at(h, ordinal)
            if not p:
                raise IndexError("paragraph ordinal %r out of range" % (ordinal,))
            return Paragraph._make(self, p)
        finally:
            self._exit()

    def paragraphs(self):
        """Every paragraph in ordinal order (an iterator)."""
        for i in range(self.paragraph_count):
            yield self.paragraph(i)

    @property
    def warnings(self):
        """The parse warnings as a list of :class:`essay.Diagnostic` (count
        mismatches, replaced bytes in lenient mode, ...)."""
        h = self._enter()
        try:
            out = []
            for i in range(lib.essay_corpus_warning_count(h)):
                w = lib.essay_corpus_warning_at(h, i)
                if w:
                    out.append(Diagnostic._from_struct(w.contents))
            return out
        finally:
            self._exit()

    def __repr__(self):
        if self.closed:
            return "<essay.Corpus closed>"
        return "<essay.Corpus %d essays>" % len(self)


class Essay:
    """One essay of a corpus: ``id``, titles, paragraphs per language.

    Paragraph 0 of each language is its title.  Valid while its corpus is
    open (afterwards its methods raise :class:`essay.ClosedError`).
    """

    __slots__ = ("corpus", "_ptr", "id")

    def __init__(self, corpus, ptr, ident):
        self.corpus = corpus   #: the :class:`Corpus` this essay belongs to
        self._ptr = ptr
        self.id = ident        #: the essay id, digits as written ("0301")

    def _call(self, fn, *args):
        self.corpus._enter()
        try:
            return fn(self._ptr, *args)
        finally:
            self.corpus._exit()

    def title(self, lang="en"):
        """The title in ``lang`` ("en" or "zh"), or None when the essay has
        no text in that language."""
        n = c_size_t()
        self.corpus._enter()
        try:
            t = lib.essay_article_title(self._ptr, lang_code(lang), byref(n))
            return _string(t, n) if t else None
        finally:
            self.corpus._exit()

    @property
    def titles(self):
        """``{"en": title or None, "zh": title or None}``."""
        return {lang: self.title(lang) for lang in LANGS}

    def paragraph_count(self, lang):
        """Number of paragraphs in ``lang``, title included (0 = absent)."""
        return self._call(lib.essay_article_paragraph_count, lang_code(lang))

    def paragraph(self, lang, index):
        """Paragraph ``index`` (0 = title) in ``lang``; IndexError when out of
        range."""
        p = self._call(lib.essay_article_paragraph, lang_code(lang), index)
        if not p:
            raise IndexError("essay %s has no %s paragraph %r" % (self.id, lang, index))
        return Paragraph._make(self.corpus, p)

    def paragraphs(self, lang="en"):
        """All paragraphs in ``lang`` (title first) as a list of
        :class:`Paragraph`."""
        code = lang_code(lang)
        self.corpus._enter()
        try:
            n = lib.essay_article_paragraph_count(self._ptr, code)
            return [Paragraph._make(self.corpus,
                                    lib.essay_article_paragraph(self._ptr, code, i))
                    for i in range(n)]
        finally:
            self.corpus._exit()

    @property
    def aligned(self):
        """True when the languages are aligned paragraph by paragraph."""
        return bool(self._call(lib.essay_article_is_aligned))

    @property
    def source(self):
        """``(file name, line)`` of the essay's heading; the file name is ""
        for in-memory text."""
        line = c_uint32()
        s = self._call(lib.essay_article_source, byref(line))
        return (s.decode("utf-8", "replace") if s else ""), line.value

    def __eq__(self, other):
        return (isinstance(other, Essay) and other.corpus is self.corpus
                and other.id == self.id)

    def __hash__(self):
        return hash((id(self.corpus), self.id))

    def __repr__(self):
        return "<essay.Essay %s>" % self.id


class Paragraph:
    """One paragraph: ``essay`` (id), ``lang``, ``index`` (0 = title),
    ``text``, ``ordinal``, ``key`` and the aligned ``pair``.

    ``essay``, ``lang``, ``index``, ``text`` and ``ordinal`` are copied out
    (plain data, usable after the corpus is closed); ``pair`` asks the corpus
    and needs it open.
    """

    __slots__ = ("corpus", "_ptr", "essay", "lang", "index", "text", "ordinal")

    @classmethod
    def _make(cls, corpus, ptr):
        self = cls.__new__(cls)
        self.corpus = corpus
        self._ptr = ptr
        n = c_size_t()
        self.text = _string(lib.essay_paragraph_text(ptr, byref(n)), n)
        self.lang = lang_name(lib.essay_paragraph_lang(ptr))
        self.index = lib.essay_paragraph_index(ptr)
        self.ordinal = lib.essay_paragraph_ordinal(ptr)
        a = lib.essay_paragraph_article(ptr)
        self.essay = _string(lib.essay_article_id(a, byref(n)), n)
        return self

    @property
    def key(self):
        """The paragraph key ``(essay, lang, para)`` (an :class:`essay.Key`)."""
        from ._index import Key
        return Key(self.essay, self.lang, self.index)

    @property
    def pair(self):
        """The aligned paragraph in the other language, or None (essay not
        aligned, or only one language)."""
        self.corpus._enter()
        try:
            p = lib.essay_paragraph_pair(self._ptr)
            return Paragraph._make(self.corpus, p) if p else None
        finally:
            self.corpus._exit()

    def __eq__(self, other):
        return (isinstance(other, Paragraph) and other.corpus is self.corpus
                and other.ordinal == self.ordinal)

    def __hash__(self):
        return hash((id(self.corpus), self.ordinal))

    def __str__(self):
        return self.text

    def __repr__(self):
        t = self.text if len(self.text) <= 30 else self.text[:29] + "…"
        return "<essay.Paragraph %s/%s/%d %r>" % (self.essay, self.lang, self.index, t)
