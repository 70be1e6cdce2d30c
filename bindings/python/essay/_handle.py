"""Lifetime of native handles: close(), context managers, use-after-close.

An :class:`Owner` holds one C handle.  Every call into the library brackets
itself with ``_enter()`` / ``_exit()``; ``close()`` marks the object closed
and frees the handle at once, or, when another thread is inside a call on
it, when that call returns.  So a handle is never freed under a running
call and a closed object raises :class:`essay.ClosedError` instead of
touching freed memory.  A borrowed handle (a corpus that belongs to an
index) pins its parent the same way instead of freeing anything.
"""

import threading

from ._errors import ClosedError

__all__ = ["Owner"]


class Owner:
    """Base of objects owning (or borrowing) a native handle."""

    _what = "object"

    def __init__(self, handle, free=None, parent=None):
        self._handle = handle
        self._free = free          # function freeing the handle, or None
        self._parent = parent      # Owner this handle is borrowed from
        self._lock = threading.Lock()
        self._busy = 0
        self._closed = False

    @property
    def closed(self):
        """True once :meth:`close` was called (or the parent was closed)."""
        return self._closed or (self._parent is not None and self._parent.closed)

    def _enter(self):
        """Pin the handle for one call and return it; raise ClosedError if
        this object (or its parent) is closed."""
        parent = self._parent
        if parent is not None:
            parent._enter()
        with self._lock:
            if self._closed:
                if parent is not None:
                    parent._exit()
                raise ClosedError("this %s is closed" % self._what)
            self._busy += 1
            return self._handle

    def _exit(self):
        with self._lock:
            self._busy -= 1
            release = self._closed and self._busy == 0
        if release:
            self._release()
        if self._parent is not None:
            self._parent._exit()

    def _release(self):
        with self._lock:
            h, self._handle = self._handle, None
            free, self._free = self._free, None
        if free is not None and h:
            free(h)

    def close(self):
        """Release the native resources now.  Idempotent.  Afterwards every
        use raises :class:`essay.ClosedError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle = self._busy == 0
        if idle:
            self._release()

    def __enter__(self):
        if self.closed:
            raise ClosedError("this %s is closed" % self._what)
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
