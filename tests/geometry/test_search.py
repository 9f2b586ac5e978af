"""Candidate pairs from the grid search against the all-pairs bound."""

import numpy as np
import pytest

from diffview.geometry._search import candidate_pairs, unit_vectors


def all_pairs(centers, radii):
    dist = np.arccos(np.clip(centers @ centers.T, -1, 1))
    k, m = np.nonzero(np.triu(dist <= radii[:, None] + radii[None, :], 1))
    return set(zip(k.tolist(), m.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(4))
def test_grid_search_finds_every_pair_within_the_radii(seed):
    rng = np.random.default_rng(seed)
    n = 600
    # clustered over the whole sphere (poles, RA 0/360), radii over 4 decades
    ra = rng.choice([0.0, 90.0, 359.0], n) + rng.normal(0, 5, n)
    dec = np.clip(rng.choice([-89.0, 0.0, 89.0], n) + rng.normal(0, 3, n), -90, 90)
    radii = np.radians(10 ** rng.uniform(-2, 1, n))
    radii[:3] = np.radians([60.0, 120.0, 0.0])  # huge, beyond a hemisphere, a point
    radii[5], dec[6] = np.nan, np.nan
    centers = unit_vectors(ra % 360, dec)
    k, m = candidate_pairs(centers, radii)
    expected = {
        p for p in all_pairs(np.nan_to_num(centers), np.nan_to_num(radii))
        if not {5, 6} & set(p)  # NaN radius, NaN centre: no pair
    }
    assert len(expected) > 2000
    assert list(zip(k.tolist(), m.tolist(), strict=True)) == sorted(expected)


def test_no_images_and_one_image():
    none = candidate_pairs(np.zeros((0, 3)), np.zeros(0))
    one = candidate_pairs(unit_vectors([1.0], [2.0]), np.array([0.1]))
    assert [len(a) for a in none + one] == [0, 0, 0, 0]
