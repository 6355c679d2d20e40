import pytest
import torch

from prsg_widgets.core.grid import PatchGrid, TooManyPatchesError, patches_to_subset, select_patches, subset_to_patches


def test_uneven_grid_edges_and_full_cover():
    g = PatchGrid(64, 64, 6)
    assert g.row_edges() == [0, 11, 21, 32, 43, 53, 64]
    total = sum(int(g.mask([p]).sum()) for p in range(36))
    assert total == 64 * 64  # patches tile the image exactly once
    assert bool(g.mask(range(36)).all())


def test_patch_ids_are_row_major():
    g = PatchGrid(60, 60, 6)
    assert g.bounds(7) == (10, 20, 10, 20)


def test_out_of_range_patch_is_a_clear_error():
    with pytest.raises(ValueError, match="0..35"):
        PatchGrid(64, 64, 6).mask([36])


def test_subset_masks_follow_bit_order():
    g = PatchGrid(8, 8, 4)
    m = g.subset_masks([0, 5, 15], [0, 1, 2, 4, 7])
    assert m[0].sum() == 0
    assert torch.equal(m[1], g.mask([0]))
    assert torch.equal(m[2], g.mask([5]))
    assert torch.equal(m[3], g.mask([15]))
    assert torch.equal(m[4], g.mask([0, 5, 15]))


def test_subset_round_trip_and_error():
    assert patches_to_subset([15, 0], [0, 5, 15]) == 0b101
    assert subset_to_patches(0b110, [0, 5, 15]) == [5, 15]
    with pytest.raises(ValueError, match="not one of the selected"):
        patches_to_subset([3], [0, 5, 15])


def test_too_many_patches():
    g = PatchGrid(64, 64, 6)
    with pytest.raises(TooManyPatchesError, match="2\\^13"):
        select_patches(g, 13, "random")
    assert len(select_patches(g, 13, "random", max_patches=13)) == 13


def test_random_selection_is_seeded():
    g = PatchGrid(64, 64, 6)
    assert select_patches(g, 5, "random", seed=1) == select_patches(g, 5, "random", seed=1)
    assert select_patches(g, 5, "random", seed=1) != select_patches(g, 5, "random", seed=2)


def test_foreground_picks_where_the_image_differs():
    g = PatchGrid(12, 12, 3)
    ref = torch.zeros(3, 12, 12)
    img = ref.clone()
    img[:, 0:4, 8:12] = 1.0  # patch 2
    img[:, 8:12, 0:4] = 0.5  # patch 6
    assert select_patches(g, 2, "foreground", image=img, reference=ref) == [2, 6]
    user = torch.zeros(12, 12)
    user[4:8, 4:8] = 1
    assert select_patches(g, 1, "foreground", mask=user) == [4]


def test_explicit_ids_are_validated():
    g = PatchGrid(64, 64, 6)
    with pytest.raises(ValueError, match="distinct"):
        select_patches(g, how=[1, 1])
    with pytest.raises(ValueError, match="out of range"):
        select_patches(g, how=[1, 40])


def test_foreground_mask_draws_at_random_among_covered_patches():
    g = PatchGrid(12, 12, 3)
    user = torch.zeros(12, 12)
    user[0:8, 0:8] = 1  # patches 0, 1, 3, 4 fully covered
    user[8:10, 0:4] = 1  # patch 6 half covered
    picks = {tuple(select_patches(g, 2, "foreground", mask=user, seed=s)) for s in range(12)}
    assert len(picks) > 1 and all(set(p) <= {0, 1, 3, 4, 6} for p in picks)
    assert select_patches(g, 6, "foreground", mask=user)[:6] == [0, 1, 2, 3, 4, 6] or \
        set(select_patches(g, 6, "foreground", mask=user)) >= {0, 1, 3, 4, 6}
    with pytest.raises(ValueError, match="foreground mask must be"):
        select_patches(g, 2, "foreground", mask=torch.ones(5, 5))
