"""Small helpers shared by the modules: language names, byte <-> str offsets."""

import os

from . import _ffi

LANGS = ("en", "zh")


def lang_code(lang):
    """'en' / 'zh' -> essay_lang; ValueError for anything else."""
    if lang == "en":
        return _ffi.LANG_EN
    if lang == "zh":
        return _ffi.LANG_ZH
    raise ValueError("lang must be 'en' or 'zh', not %r" % (lang,))


def lang_name(code):
    """essay_lang -> 'en' / 'zh'."""
    return LANGS[code]


def to_bytes(text, what="text"):
    """str (encoded as UTF-8) or bytes-like -> bytes."""
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(text).__name__))


def to_path(path):
    """str / bytes / os.PathLike -> bytes for the C library."""
    p = os.fspath(path)
    return p if isinstance(p, bytes) else os.fsencode(p)


class OffsetMap:
    """Map byte offsets of a UTF-8 buffer to indices of its decoded str.

    Offsets must lie on character boundaries (the library guarantees it for
    token and highlight offsets).  Consecutive lookups walk incrementally in
    either direction, so mapping all tokens of a text costs O(length)."""

    __slots__ = ("raw", "identity", "b", "c")

    def __init__(self, raw, n_chars):
        self.raw = raw
        self.identity = len(raw) == n_chars   # pure ASCII: bytes == chars
        self.b = 0
        self.c = 0

    def __call__(self, b):
        if self.identity:
            return b
        if b >= self.b:
            self.c += len(self.raw[self.b:b].decode("utf-8", "replace"))
        else:
            self.c -= len(self.raw[b:self.b].decode("utf-8", "replace"))
        self.b = b
        return self.c
