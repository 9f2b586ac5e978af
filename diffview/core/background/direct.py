"""
Background corrections from one sparse weighted least-squares solve.

All images are solved at once (`solve_direct`); by default under a prior
whose strengths are estimated from the fits (maximum evidence), with bad
fits down-weighted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from diffview.errors import InputError
from diffview.models import Correction, PlaneFit

from . import _survey
from ._evidence import _cycle_rank, _prior_forms, _solve_prior
from ._fits import AREA_LIMIT, _box_moments, _fit_arrays, _select
from ._images import ImageGeometry
from ._linear import _fit_weights, _level_target, _solve_plain

__all__ = ["solve_direct", "DirectSolution", "load_solver"]


@dataclass(frozen=True)
class DirectSolution:
    """
    A `solve_direct` answer, and where a later solve can start from.

    Attributes
    ----------
    corrections : list of Correction
        One per image, sorted by id.
    strengths : tuple of float
        Natural log of the prior's dimensionless strengths (level, then
        slope) the evidence chose; empty when no prior was used.
    problem : str
        A fingerprint of the inputs solved (fits, weights, options): a
        solve of the same inputs that starts from this answer returns it.

    Examples
    --------
    >>> DirectSolution([], ()).strengths
    ()
    """

    corrections: list
    strengths: tuple = ()
    problem: str = ""


def solve_direct(
    images: ImageGeometry | None,
    fits: list[PlaneFit],
    *,
    level_only: bool = False,
    robust: bool = True,
    useall: bool = False,
    exclude_pairs: Iterable = (),
    exclude_images: Iterable = (),
    locked: Iterable[int] = (),
    weighting: str = "area",
    regularize: str | None = "auto",
    max_iter: int = 10,
    start: DirectSolution | None = None,
    full_output: bool = False,
) -> list[Correction] | DirectSolution:
    """
    Background corrections from one sparse weighted least-squares solve.

    Every fit ``k`` says that the difference ``g_k`` of its two images'
    correction planes should equal its fitted plane ``f_k``; the misfit
    ``(g_k - f_k)^T W_k (g_k - f_k)`` is weighted by the moments ``W_k`` of the
    fit's bounding box (its pixel count and lever arm), exactly the equations
    mBgModel iterates on.

    By default (``regularize='auto'``) the corrections are the most probable
    ones under the model the problem assumes: every image has its own random
    background plane, with a level of spread ``s_level`` and a slope part of
    rms ``s_slope`` over the image, and the fits carry noise of one unknown
    scale. The three spreads are estimated from the fits themselves by
    maximising the evidence (type-II maximum likelihood), then one sparse
    solve gives the corrections. Where the overlaps pin the slopes down the
    prior is weak and the answer is the plain least-squares one; where they
    cannot (thin edge strips, noise larger than the injected slopes, the
    field-wide curvature no set of overlaps measures well) it keeps the
    corrections to what the fits support instead of fitting their noise.
    With ``regularize=None`` the plain weighted least-squares answer is
    returned: the point Montage's iteration converges to.

    The plane common to all images, which differences cannot determine, is
    fixed by the prior (corrections as small as possible), or by holding the
    locked images at zero; in the plain solve by making the corrections of
    each connected group of images sum to zero.

    Parameters
    ----------
    images : ImageGeometry or None
        Used for the rejection rule (mean image area), ``locked`` flags and
        the prior (image sizes and reference pixels). Without it the plain
        solve is used.
    fits : list of PlaneFit
        The overlap fits.
    level_only : bool
        Solve for offsets only (each fit contributes its value at the box
        centre).
    robust : bool
        Iteratively reweight the fits by their normalised misfit (Huber,
        then Tukey's biweight: fits beyond 4.7 robust sigmas lose their
        weight), so a few bad overlaps (a one-pixel strip between two images
        that barely touch can be off by hundreds of DN) cannot pull the
        solution. On by default; with clean fits it changes next to nothing.
    useall : bool
        Keep fits Montage would reject (non-finite rms, tiny pixel count).
    exclude_pairs, exclude_images : iterable
        Fits to leave out, as in `solve_montage`.
    locked : iterable of int
        Further images held at zero correction.
    weighting : {'area', 'rms'}
        ``'area'`` weights each fit by its box moments only (mBgModel's
        equations). ``'rms'`` also divides by the fit's ``rms^2``; Montage's
        rms comes out of 20 rounds of 2-sigma clipping, so it is far below
        the noise and only a relative weight.
    regularize : {'auto', None}
        ``'auto'``: the prior described above, with its spreads estimated
        from the fits (needs ``images`` with sizes and reference pixels, and
        at least three misfit degrees of freedom, i.e. loops in the overlap
        graph; otherwise the plain solve is used). ``None``: plain weighted
        least squares.
    max_iter : int
        Most reweighting passes of each robust stage.
    start : DirectSolution, optional
        An earlier answer on nearly the same fits (``full_output=True``):
        the dashboard's re-solve after a pair or an image is flagged. The
        evidence search starts from its strengths, and the robust weights
        come from Huber's then Tukey's reweighting under the prior, started
        from its corrections, instead of from the robust plain solve and a
        wide search: a third of the time. The answer is the same model's,
        though not bit for bit a fresh solve's: on the seeded 400-tile field
        they differ by 2e-4 DN at most, with 2% wild fits by 0.01 DN against
        an error of 0.3 DN; a start far from the answer leads to the same
        one (Huber's optimum is unique). Ignored (a fresh solve) when an
        image has no finite correction in it, without the prior, or above
        1500 images. When it solved these very inputs, it is returned as
        it is.
    full_output : bool
        Return a `DirectSolution` (corrections and strengths) instead of
        the list of corrections.

    Returns
    -------
    list of Correction or DirectSolution
        One correction per image in the kept fits, sorted by id.

    Notes
    -----
    Corrections are planes ``a x + b y + c`` to subtract, in Montage's plane
    coordinates ``x = i - CRPIX1``, ``y = j - CRPIX2`` (0-based ``i``, ``j``).
    The unknowns are scaled by the largest box coordinate before the solve,
    so the system is well conditioned whatever the image sizes.

    Up to 1500 images every solve is a sparse factorisation and the prior's
    strengths come from the evidence of every fit. Above that (survey
    fields), the same estimator is computed in time linear in the images:
    each solve is conjugate gradients preconditioned by a smoothed-aggregation
    multilevel cycle (one hierarchy for all the robust passes, refreshed with
    each pass's weights), solved loosely inside the robust reweighting and
    fully for the answer, and the strengths are those maximising the evidence
    of the fits of an 800-image patch at the field's centre (three numbers
    shared by the whole field, which such a patch pins down). The answers of
    the two ways agree to 1e-6 DN without reweighting and to about 1e-3 DN
    with it.

    Examples
    --------
    >>> f = PlaneFit(0, 1, 0., 0., 2.0, 1., 1., 0, 9, 0, 7, 4.5, 3.5, 80, 0.1,
    ...              4.5, 3.5, 9., 7., 0.)
    >>> [round(c.c, 6) for c in solve_direct(None, [f], level_only=True)]
    [1.0, -1.0]
    """
    if weighting not in ("area", "rms"):
        raise InputError(f"weighting must be 'area' or 'rms', not {weighting!r}")
    if regularize not in ("auto", None):
        raise InputError(f"regularize must be 'auto' or None, not {regularize!r}")
    fits = _select(fits, exclude_pairs, exclude_images, images)
    if not useall:
        limit = AREA_LIMIT * images.mean_area if images is not None else 0.0
        fits = [f for f in fits if math.isfinite(f.rms) and not int(f.npixel) < limit]
    if not fits:
        return DirectSolution([]) if full_output else []
    f = _fit_arrays(fits, mirror=False)
    f["rms"] = np.where(
        f["rms"] > 0, f["rms"], np.min(f["rms"][f["rms"] > 0], initial=1.0)
    )
    mom = _box_moments(f)
    ids = np.unique(np.concatenate([f["plus"], f["minus"]]))
    pidx, midx = np.searchsorted(ids, f["plus"]), np.searchsorted(ids, f["minus"])
    if weighting == "area":
        f["rms"] = np.ones_like(f["rms"])
    W = _fit_weights(f, mom, level_only)
    target = (
        _level_target(f) if level_only else np.column_stack([f["a"], f["b"], f["c"]])
    )
    extent = max(float(np.max(np.abs(np.concatenate([f["boxx"], f["boxy"]])))), 1.0)
    scale = np.ones(1) if level_only else np.array([1.0 / extent, 1.0 / extent, 1.0])
    lock_ids = set(map(int, locked))
    if images is not None:
        lock_ids |= set(images.cntr[images.locked].tolist())
    lockmask = np.isin(ids, list(lock_ids))
    nrobust = max_iter if robust else 0
    forms = None
    if regularize == "auto" and images is not None:
        dof = W.shape[1] * _cycle_rank(pidx, midx, len(ids))
        forms = _prior_forms(images, ids, scale, W.shape[1]) if dof >= 3 else None
    problem = ""  # fingerprinted only for a start or a DirectSolution
    if start is not None or full_output:
        problem = _digest(ids, pidx, midx, W, target, lockmask, nrobust, forms)
    if start is not None and start.problem == problem:  # the same answer
        corrections = list(start.corrections)
        return replace(start, corrections=corrections) if full_output else corrections
    loglam = ()
    if len(ids) > _survey._LARGE:
        u = _survey._solve_survey(
            f, pidx, midx, W, target, len(ids), scale, lockmask, forms, nrobust
        )
    elif forms is None:
        u = _solve_plain(pidx, midx, W, target, len(ids), scale, lockmask, nrobust)
    else:
        u, loglam = _solve_prior(
            pidx, midx, W, target, len(ids), scale, lockmask, forms, nrobust,
            _start(start, ids, level_only, forms),
        )
    if level_only:
        u = np.column_stack([np.zeros((len(ids), 2)), u])
    corrections = [Correction(int(i), *map(float, u[k])) for k, i in enumerate(ids)]
    if full_output:
        return DirectSolution(corrections, tuple(map(float, loglam)), problem)
    return corrections


def load_solver() -> None:
    """
    Import the libraries `solve_direct` uses, ahead of a solve.

    scipy's sparse and dense linear algebra, its optimisers and
    threadpoolctl: their first import in a process takes 0.3-0.6 s (scipy
    also loads numpy.f2py), which a caller that expects a solve soon (the
    dashboard, once a pair or an image is flagged) can spend in a thread
    meanwhile.

    Examples
    --------
    >>> load_solver()
    >>> import sys
    >>> "scipy.optimize" in sys.modules
    True
    """
    import scipy.linalg  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401
    import scipy.sparse.linalg  # noqa: F401
    import threadpoolctl  # noqa: F401


def _digest(*parts) -> str:
    """Fingerprint a solve's inputs: arrays (None for none) and numbers."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        for item in part if isinstance(part, tuple) else (part,):
            a = np.ascontiguousarray(item if item is not None else np.zeros(0))
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _start(start: DirectSolution | None, ids, level_only: bool, forms):
    """``(u, log strengths)`` for `_solve_prior` from an earlier answer, or None.

    None (a fresh solve) unless every image has a finite correction in it
    and it has one finite strength per prior form.
    """
    if start is None or len(start.strengths) != sum(b is not None for b in forms):
        return None
    have = {c.id: c for c in start.corrections}
    if not all(int(i) in have for i in ids):
        return None
    rows = [have[int(i)] for i in ids]
    u = np.array([[c.c] if level_only else [c.a, c.b, c.c] for c in rows], float)
    loglam = np.asarray(start.strengths, float)
    if not (np.isfinite(u).all() and np.isfinite(loglam).all()):
        return None
    return u, loglam
