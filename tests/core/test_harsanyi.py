"""The Harsanyi transforms: fast = naive, inverses, completeness, additivity, shapiq agreement."""

import numpy as np
import pytest
import torch

from prsg_widgets.core import harsanyi as H


def random_u(n: int, d: int = 5, seed: int = 0, empty_zero: bool = True) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(1 << n, d, generator=g, dtype=torch.float64)
    if empty_zero:
        u[0] = 0
    return u


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_fast_transforms_equal_naive(n):
    u = random_u(n, empty_zero=False)
    torch.testing.assert_close(H.or_interactions(u), H.naive_or_interactions(u), rtol=0, atol=1e-12)
    torch.testing.assert_close(H.and_interactions(u), H.naive_and_interactions(u), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_inverses_round_trip(n):
    u = random_u(n, empty_zero=False)
    torch.testing.assert_close(H.or_inverse(H.or_interactions(u)), u, rtol=0, atol=1e-12)
    torch.testing.assert_close(H.and_inverse(H.and_interactions(u)), u, rtol=0, atol=1e-12)
    torch.testing.assert_close(H.mobius_transform(H.zeta_transform(u)), u, rtol=0, atol=1e-12)


def test_completeness_and_linear_additivity_eq7():
    n = 6
    u = random_u(n)
    inter = H.or_interactions(u)
    assert torch.all(inter[0] == 0)
    # completeness (Axiom 1): u(N) = Σ_{S≠∅} I(S)
    torch.testing.assert_close(inter[1:].sum(0), u[-1], rtol=0, atol=1e-12)
    # Eq. 7 for every T, written out with the intersection test
    for T in range(1 << n):
        expected = sum((inter[S] for S in range(1, 1 << n) if S & T), torch.zeros_like(u[0]))
        torch.testing.assert_close(expected, u[T], rtol=0, atol=1e-11)


def test_reconstruct_with_subset_of_components_matches_formula():
    n = 4
    inter = H.or_interactions(random_u(n, seed=3))
    keep = [1, 3, 6, 15]
    rec = H.reconstruct(inter, keep)
    for T in range(1 << n):
        expected = sum((inter[S] for S in keep if S & T), torch.zeros_like(inter[0]))
        torch.testing.assert_close(rec[T], expected, rtol=0, atol=1e-12)
    mask = torch.zeros(1 << n, dtype=torch.bool)
    mask[keep] = True
    torch.testing.assert_close(H.reconstruct(inter, mask), rec)


def test_linearity_of_the_transform():
    a, b = random_u(5, seed=1), random_u(5, seed=2)
    torch.testing.assert_close(H.or_interactions(2.5 * a - b), 2.5 * H.or_interactions(a) - H.or_interactions(b))


def test_known_or_game_recovered_exactly():
    """u(T) = Σ_S c_S [S∩T≠∅] has OR interactions exactly c_S."""
    n = 4
    g = torch.Generator().manual_seed(7)
    coeffs = torch.zeros(1 << n, 3, dtype=torch.float64)
    for S in [1, 5, 6, 15, 10]:
        coeffs[S] = torch.randn(3, generator=g, dtype=torch.float64)
    u = torch.stack([sum((coeffs[S] for S in range(1, 1 << n) if S & T), torch.zeros(3, dtype=torch.float64))
                     for T in range(1 << n)])
    torch.testing.assert_close(H.or_interactions(u), coeffs, rtol=0, atol=1e-12)


def test_known_and_game_recovered_exactly():
    """u(T) = Σ_{S⊆T} c_S has AND dividends exactly c_S."""
    n = 3
    coeffs = torch.zeros(1 << n, 1, dtype=torch.float64)
    coeffs[[3, 4, 7], 0] = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    u = torch.stack([sum((coeffs[S] for S in range(1 << n) if S & T == S), torch.zeros(1, dtype=torch.float64))
                     for T in range(1 << n)])
    torch.testing.assert_close(H.and_interactions(u), coeffs, rtol=0, atol=1e-12)


def test_dimension_checks():
    with pytest.raises(ValueError, match="2\\^n"):
        H.or_interactions(torch.zeros(6, 2))


@pytest.mark.parametrize("n", [2, 4, 6])
def test_agrees_with_shapiq_co_moebius(n):
    """Shapiq's Co-Möbius transform m*(S) = Σ_{L⊆S} (−1)^{|L|} v(N∖L) relates to Eq. 6 by the sign
    (−1)^{|S|+1}; both keep v(∅) at the empty set.
    """
    shapiq = pytest.importorskip("shapiq")
    u = random_u(n, d=3, seed=n, empty_zero=False)
    ours = H.or_interactions(u).numpy()
    for dim in range(u.shape[1]):
        values = u[:, dim].numpy()

        def game(coalitions, values=values):
            idx = (np.asarray(coalitions, dtype=np.int64) << np.arange(n)).sum(1)
            return values[idx]

        iv = shapiq.ExactComputer(game, n_players=n, evaluate_game=True)("Co-Moebius", order=n)
        for S, pos in iv.interaction_lookup.items():
            mask = sum(1 << i for i in S)
            sign = 1.0 if not S else (-1.0) ** (len(S) + 1)
            assert ours[mask, dim] == pytest.approx(sign * iv.values[pos], abs=1e-10)
