"""
Picture-sized scratch arrays kept between pictures, and a heap setting.

The arrays are released by `release_buffers`; `retain_heap` sets the C
library's heap for processes that draw picture after picture.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["release_buffers", "retain_heap"]

#: Picture-sized scratch arrays kept between pictures, by role (see
#: `release_buffers`): each is all zeros (all -1 for ``since``) while it is
#: in the arena, except ``bins`` (histogram bins, no fill). Fresh memory is
#: page-faulted in on first use, so reusing the arrays of the last picture
#: saves that; kept, only the pixels drawn are reset.
_ARENA: dict = {}
_ARENA_LOCK = threading.Lock()


def _borrow(role: str, n: int, dtype, fill) -> np.ndarray:
    """
    Borrow the arena's array for ``role``.

    At least ``n`` items, all ``fill`` (any values when ``fill`` is None),
    taken out of the arena so no other
    thread can use it meanwhile; a new one when the arena has none large
    enough. Give it back clean with `_give_back`.
    """
    with _ARENA_LOCK:
        arr = _ARENA.pop(role, None)
    if arr is None or arr.size < n or arr.dtype != dtype:
        arr = (np.empty(n, dtype) if fill is None else np.zeros(n, dtype) if fill == 0
               else np.full(n, fill, dtype))
    return arr


def _give_back(role: str, arr: np.ndarray) -> None:
    """
    Put a borrowed array back (every item must be its fill again).

    The larger one is kept when another thread gave one back meanwhile.
    """
    with _ARENA_LOCK:
        kept = _ARENA.get(role)
        if kept is None or kept.size < arr.size:
            _ARENA[role] = arr


def release_buffers() -> int:
    """
    Free the scratch arrays kept between pictures.

    A picture needs picture-sized scratch arrays: every pixel's histogram
    bin (4 bytes a pixel) and, for outlines, the coverage weights (8 bytes
    a pixel; 9 more for black lines: the pixels drawn and their drawing
    order). They are kept for the next picture, which then skips the page
    faults of fresh memory; the memory kept is bounded by the largest
    picture drawn. After this call the next picture allocates them again.

    Returns
    -------
    int
        The number of bytes freed.

    Examples
    --------
    >>> import numpy as np
    >>> from diffview.render import Overlay, burn_overlay
    >>> img = np.zeros((40, 50, 3), np.uint8)
    >>> _ = burn_overlay(img, Overlay([np.array([[1.0, 1.0], [30.0, 20.0]])]))
    >>> release_buffers() > 0
    True
    >>> release_buffers()
    0
    """
    with _ARENA_LOCK:
        freed = sum(a.nbytes for a in _ARENA.values())
        _ARENA.clear()
    return freed


def retain_heap(mmap_threshold: int = 32 << 20, trim_threshold: int = 64 << 20
                ) -> bool:
    """
    Ask the C library's allocator (glibc) to keep freed memory for the next picture.

    A process-wide setting, for processes that render picture after picture
    (notebooks, widgets, benchmarks). By default glibc gives the top of its
    heap back to the system once more than about twice the largest recently
    freed block is free there, and a picture's temporaries (image, RGB,
    levels, outlines) are often just above that: the next picture then
    page-faults the same memory in again. With this, blocks up to
    ``mmap_threshold`` bytes come from the heap and up to ``trim_threshold``
    free bytes stay in it. The process may keep that much more memory; the
    setting lasts until the process ends (or another call).

    Parameters
    ----------
    mmap_threshold : int
        glibc's ``M_MMAP_THRESHOLD`` (bytes).
    trim_threshold : int
        glibc's ``M_TRIM_THRESHOLD`` (bytes).

    Returns
    -------
    bool
        True when applied; False where the C library is not glibc.

    Examples
    --------
    >>> isinstance(retain_heap(), bool)
    True
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, int(mmap_threshold))
                and mallopt(m_trim_threshold, int(trim_threshold)))
