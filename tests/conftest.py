"""Shared fixtures: a tiny untrained generator that makes unit tests run in seconds."""
from __future__ import annotations

import os

import pytest
import torch
from tiny_model import make_tiny_module

from prsg_widgets import Explainer, split_generator


def pytest_configure(config):
    """Under pytest-xdist, give each worker its share of the cores: torch's threads here, and
    ``OMP_NUM_THREADS`` for what it starts (notebook kernels, ``prsg`` subprocesses), so that two
    workers on two cores do not run four busy threads. An ``OMP_NUM_THREADS`` you set is kept.
    """
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not workers or "OMP_NUM_THREADS" in os.environ:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // int(workers))
    os.environ["OMP_NUM_THREADS"] = str(share)
    torch.set_num_threads(share)


@pytest.fixture(scope="session")
def shared_playwright():
    """One Playwright (sync API) per worker. A second ``sync_playwright()`` started while the first
    lives fails with "using Playwright Sync API inside the asyncio loop", so every test module that
    drives Chromium (tests/widgets/browser, tests/docs) takes this one. Callers check their own
    requirements first and ask for it with ``request.getfixturevalue``.
    """
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture
def tiny_generator():
    """An 8×8 RGB generator split after the first ReLU (feature 8×4×4, d = 128)."""
    return split_generator(make_tiny_module(), "2", sample_codes=(4,), name="tiny")


@pytest.fixture
def tiny_explainer(tiny_generator):
    ex = Explainer(tiny_generator, grid=4, solver="fast", iterations=150, progress=False, baseline_samples=64)
    yield ex
    ex.close()
