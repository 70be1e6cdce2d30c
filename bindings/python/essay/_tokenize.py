"""The analyzer's token stream (essay_tokenize) as Python objects."""

import ctypes
from ctypes import byref

from . import _ffi
from ._errors import from_struct
from ._lib import lib
from ._text import OffsetMap, to_bytes

__all__ = ["Token", "tokenize", "TOKEN_KINDS"]

#: essay_token_kind value -> name used in :attr:`Token.kind`.
TOKEN_KINDS = {
    _ffi.TOKEN_WORD: "word",
    _ffi.TOKEN_EXACT: "exact",
    _ffi.TOKEN_COMPOUND: "compound",
    _ffi.TOKEN_HAN_WORD: "han_word",
    _ffi.TOKEN_HAN_UNIGRAM: "han_unigram",
    _ffi.TOKEN_HAN_BIGRAM: "han_bigram",
    _ffi.TOKEN_OTHER: "other",
}


class Token:
    """One token of the analyzer's stream.

    ``term``        normalized term (str): folded, stemmed, simplified
    ``kind``        one of :data:`TOKEN_KINDS`' names ("word", "han_bigram", ...)
    ``start, end``  half-open range of the original text as indices of the
                    object given to :func:`tokenize` (str indices for str
                    input, so ``text[t.start:t.end]`` is the token's source)
    ``start_byte, end_byte``  the same range in bytes of the UTF-8 text
    ``position``    token position (Han: character position)
    ``colocated``   True when the token shares the previous token's position
    ``flags``       the raw essay_token flags
    """

    __slots__ = ("term", "kind", "start", "end", "start_byte", "end_byte",
                 "position", "colocated", "flags")

    def __init__(self, term, kind, start, end, start_byte, end_byte, position,
                 colocated, flags=0):
        self.term, self.kind = term, kind
        self.start, self.end = start, end
        self.start_byte, self.end_byte = start_byte, end_byte
        self.position, self.colocated, self.flags = position, colocated, flags

    def _tuple(self):
        return tuple(getattr(self, a) for a in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, Token) and self._tuple() == other._tuple()

    def __hash__(self):
        return hash(self._tuple())

    def __repr__(self):
        return ("Token(%r, %s, %d:%d, pos=%d%s)"
                % (self.term, self.kind, self.start, self.end, self.position,
                   ", colocated" if self.colocated else ""))


class _Stop(Exception):
    pass


def tokenize(text, query=False, callback=None):
    """Run the analyzer over ``text`` (str, or UTF-8 bytes) and return its
    tokens, in text order, as a list of :class:`Token`.

    ``query=True`` analyzes as a query is analyzed (ESSAY_TOKENIZE_QUERY).
    With ``callback``, each token is also passed to ``callback(token)``; a
    true return value stops the walk (the list then ends with that token).
    An exception raised by the callback stops the walk and propagates.

    Raises :class:`essay.EssaySyntaxError` for invalid UTF-8 bytes
    (``offset`` is the byte), :class:`essay.ICUError`.
    """
    is_str = isinstance(text, str)
    raw = to_bytes(text)
    where = OffsetMap(raw, len(text)) if is_str else None
    tokens = []
    failure = []

    def on_token(payload, tp):
        try:
            t = tp.contents
            flags = t.flags
            kind = flags & _ffi.TOKEN_KIND_MASK
            term = ctypes.string_at(t.term, t.term_len).decode("utf-8", "replace")
            sb, eb = t.start, t.end
            s, e = (where(sb), where(eb)) if where else (sb, eb)
            tok = Token(term, TOKEN_KINDS.get(kind, str(kind)), s, e, sb, eb,
                        t.position, bool(flags & _ffi.TOKEN_COLOCATED), flags)
            tokens.append(tok)
            if callback is not None and callback(tok):
                return 1
            return 0
        except BaseException as exc:   # never lost: stop the walk, re-raise below
            failure.append(exc)
            return 1

    cb = _ffi.TokenCallback(on_token)   # referenced until the call returns
    err = _ffi.EssayError()
    flags = _ffi.TOKENIZE_QUERY if query else _ffi.TOKENIZE_DOCUMENT
    rc = lib.essay_tokenize(raw, len(raw), flags, cb, None, byref(err))
    if failure:
        raise failure[0]
    if rc < 0:
        raise from_struct(rc, err)
    return tokens
