"""Checks of an ``explanation.npz`` the CLI writes, shared by the CLI and model tests (imported by name:
``tests`` is on ``pythonpath``).
"""
import numpy as np

from prsg_widgets.core import harsanyi


def check_npz(path, rtol=1e-4):
    z = np.load(path)
    n = len(z["patches"])
    F, C, b = z["minimal_features"], z["components"], z["baseline"]
    assert F.shape == C.shape == (2 ** n, b.size)
    assert z["mse"].shape == z["feasible"].shape == (2 ** n,)
    assert z["image"].ndim == 3 and z["feature"].shape == b.shape and z["epsilon"].shape == ()
    scale = np.abs(F).max()
    np.testing.assert_allclose(F[0], b, rtol=rtol, atol=rtol * scale)
    assert np.all(C[0] == 0)
    np.testing.assert_allclose(b + C.sum(0), F[-1], rtol=rtol, atol=rtol * scale)
    import torch
    naive = harsanyi.naive_or_interactions(torch.from_numpy(F - b).double()).numpy()
    np.testing.assert_allclose(C, naive, rtol=rtol, atol=rtol * scale)
    return z
