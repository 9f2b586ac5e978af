"""numba settings and signature types shared by the compiled loops."""

from __future__ import annotations

import numba

__all__: list[str] = []

# IEEE arithmetic (x / 0 is inf or NaN, as in numpy and Montage's C)
_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
# Reductions may be reordered (vectorised); NaNs and infinities keep their IEEE
# meaning, which the rms of an empty set relies on.
_FAST = {"reassoc", "contract", "arcp", "nsz"}

_F, _F1, _F2 = numba.float64, numba.float64[:], numba.float64[:, :]
_B1, _B2, _I, _BOOL = numba.boolean[:], numba.boolean[:, :], numba.int64, numba.boolean
