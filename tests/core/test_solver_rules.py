"""The solver states its own rules (issue 25.2): the solve order, nested readiness, the block width,
the slots of a batch, the iteration budget, the settle rule and :func:`simulate` — and they are
the rules the solver follows: :func:`simulate` is checked step by step against real solves, the
block width against recorded ones.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from prsg_widgets.core.grid import PatchGrid
from prsg_widgets.core.solver import (
    PRESETS,
    SolveHooks,
    SolveOptions,
    block_width,
    get_solver_config,
    is_ready,
    recorded_max_steps,
    settle_iterations,
    simulate,
    slot_count,
    solve_minimal_features,
    solve_order,
    widest_level,
)

DATA = Path(__file__).parents[1] / "backend" / "data"


def _problem(gen):
    code = gen.sample_codes(1, torch.Generator().manual_seed(3))
    with torch.no_grad():
        f = gen.head(code).reshape(-1)
        x = gen.tail(f.unsqueeze(0))[0]
    return f, gen.baseline(64), x, PatchGrid(8, 8, 4).patch_masks([0, 5, 10, 15])


def _steps(schedule):
    """The batch of every step, from :func:`simulate`'s stretches (whole iterations)."""
    out = []
    for steps, batch in schedule:
        assert steps == int(steps) >= 1
        out += [set(batch)] * int(steps)
    return out


@pytest.mark.parametrize("preset, options", [
    ("interactive", {}),
    ("interactive", {"batch_size": 3, "unit": 2}),  # 3 rounds up to two blocks of 2: four slots
    ("fast", {}),
    ("fast", {"batch_size": 5}),
    ("tiny", {"batch_size": 7, "unit": 4}),
])
def test_simulate_replays_the_solver(tiny_generator, preset, options):
    """:func:`simulate` with the iterations a real solve took gives the batch of every one of its
    steps (``on_step`` reports the batch of the next step, after the slots are refilled).
    """
    config = get_solver_config(preset, iterations=40)
    seen: list[dict] = []
    res = solve_minimal_features(tiny_generator.tail, *_problem(tiny_generator), list(range(16)), config,
                                 progress=False, on_step=lambda d: seen.append(dict(d)), **options)
    its = dict(zip(res.subsets.tolist(), res.iterations.tolist(), strict=True))
    assert len(set(its.values())) > 2  # the schedule is not trivial
    unit = options.get("unit") or block_width("cpu", options.get("batch_size", 1 << 20), 4, config.nested)
    steps = _steps(simulate(config, 4, its, options.get("batch_size"), unit=unit))
    assert len(steps) == len(seen) and seen[-1] == {}
    assert steps[1:] == [set(d) for d in seen[:-1]]
    assert max(len(b) for b in steps) <= (slot_count(options["batch_size"], 15, unit) if options else 15)


def test_simulate_with_subsets_running_and_solved():
    """Subsets in neither mapping are solved; running ones hold their slots first; ``∅`` is never
    scheduled; nested, a subset waits for its maximal proper subsets.
    """
    n = 3
    # {1} and {2} solved, {4} running with 2.5 steps left; the rest waiting
    schedule = simulate(True, n, {0: 5, 3: 1, 5: 4, 6: 1, 7: 2}, batch=None, running={4: 2.5})
    assert schedule == [(1.0, (4, 3)), (1.5, (4,)), (1.0, (5, 6)), (3.0, (5,)), (2.0, (7,))]
    # independent, two slots: by decreasing size, the next one as soon as a slot frees
    schedule = simulate(False, n, {1: 2, 3: 1, 7: 3}, batch=2)
    assert schedule == [(1.0, (7, 3)), (2.0, (7, 1))]
    assert simulate(PRESETS["interactive"], n, {}, batch=4) == []


def test_order_and_readiness():
    assert solve_order([7, 1, 3, 2, 4], nested=True) == [1, 2, 4, 3, 7]
    assert solve_order([7, 1, 3, 2, 4], nested=False) == [7, 3, 1, 2, 4]
    assert is_ready(0b110, 3, True, {0b010, 0b100}) and not is_ready(0b110, 3, True, {0b010})
    assert is_ready(0b110, 3, False, set())


@pytest.mark.parametrize("n, seed", [(4, 0), (7, 1), (12, 0)])
def test_block_width_is_the_recorded_solves(n, seed):
    """The rows per block of real nested solves on the CPU (tests/backend/data) are
    :func:`block_width`'s: the widest level caps them at n = 4 (C(4, 2) = 6).
    """
    rec = json.loads((DATA / f"solve_n{n}_s{seed}.json").read_text())
    assert block_width("cpu", 1 << 20, n, True) == rec["unit"]
    assert widest_level(n) >= rec["widest_batch"]
    assert block_width("cpu", 1 << 20, 4, False) == 8 and block_width("cpu", 4, 12, True) == 4


def test_slot_count_fills_whole_blocks():
    assert slot_count(16, 100, 16) == 16 and slot_count(20, 100, 16) == 32 and slot_count(20, 3, 16) == 16
    assert slot_count(3, 15, 2) == 4 and slot_count(8, 0, 4) == 4


def test_budget_and_settle_rules():
    config = PRESETS["interactive"]
    assert settle_iterations(config) == 5 + config.patience + config.polish == 40
    saved = config.as_dict()
    assert recorded_max_steps(saved) == config.max_steps == 2 * 300 + 20 + 2
    del saved["polish"], saved["restart"]  # settings saved before these existed
    assert recorded_max_steps(saved) == 2 * 300 + 2
    for bad in ({}, {"iterations": "300"}, {"iterations": 0}, {"iterations": 30, "polish": -1}):
        assert recorded_max_steps(bad) is None


def test_no_subset_reports_more_than_max_steps(tiny_generator):
    """``max_steps`` bounds what the solver records, with restarts and the polish (file checks
    reject anything above it).
    """
    config = get_solver_config("interactive", iterations=8, patience=3, polish=5, nested=False)
    res = solve_minimal_features(tiny_generator.tail, *_problem(tiny_generator), list(range(16)), config,
                                 progress=False, epsilon=1e-6)
    assert int(res.iterations.max()) <= config.max_steps
    assert int(res.iterations.max()) > 2 * config.iterations  # a rescued subset spent both budgets


def test_options_and_hooks_equal_loose_keywords(tiny_generator):
    """The grouped call and the older loose-keyword call are the same solve, bit for bit."""
    problem = _problem(tiny_generator)
    config = get_solver_config("interactive", iterations=40)
    a_steps: list[dict] = []
    b_steps: list[dict] = []
    a = solve_minimal_features(tiny_generator.tail, *problem, list(range(16)), config, batch_size=3, unit=2,
                               progress=False, on_step=lambda d: a_steps.append(dict(d)))
    b = solve_minimal_features(tiny_generator.tail, *problem, list(range(16)), config,
                               options=SolveOptions(batch_size=3, unit=2),
                               hooks=SolveHooks(progress=False, on_step=lambda d: b_steps.append(dict(d))))
    assert torch.equal(a.features, b.features) and torch.equal(a.iterations, b.iterations) and a_steps == b_steps
    with pytest.raises(TypeError, match="batchsize"):
        solve_minimal_features(tiny_generator.tail, *problem, [1], config, batchsize=3)
    with pytest.raises(TypeError):
        solve_minimal_features(tiny_generator.tail, *problem, [1], config, None, 3)  # batch_size is a keyword


def test_pool_steps_touch_only_the_rows_given_and_keep_the_fixed_fields() -> None:
    """The loop gathers, steps and scatters live rows only: a padding slot's state stays as it was,
    and a scatter never rewrites ``lower``/``member`` (set once when a subset takes its slot).
    """
    from prsg_widgets.core.solver.objective import Evaluation
    from prsg_widgets.core.solver.pool import SlotPool

    pool = SlotPool(4, 3, 2, torch.float32, torch.device("cpu"))
    for slot in range(4):
        pool.reset(slot, slot, m=torch.full((3,), 0.1 * slot), lower=torch.full((3,), 0.05),
                   member=torch.tensor([1.0, 0.0]))
    padding = {name: t[3].clone() for name, t in pool._state.items()}
    idx = torch.tensor([0, 2])
    rows = pool.gather(idx)
    rows.m = rows.m + 1
    rows.lower = torch.zeros_like(rows.lower)
    rows.member = torch.zeros_like(rows.member)
    pool.scatter(idx, rows)
    assert torch.equal(pool.m[idx], torch.tensor([[1.0] * 3, [1.2] * 3]))
    assert torch.equal(pool.lower[idx], torch.full((2, 3), 0.05))
    assert torch.equal(pool.member[idx], torch.tensor([[1.0, 0.0]] * 2))
    assert all(torch.equal(pool._state[name][3], v) for name, v in padding.items())
    dims = (0, 0, 1, 0, 0, 0, 1)  # obj … grad: a per-row value, or a row of 3
    ev = Evaluation(*(torch.arange(4.0).view(4, *([1] * k)).expand(4, *([3] * k)).clone() for k in dims))
    kept = ev.rows(torch.tensor([True, False, True, False]))
    assert torch.equal(kept.obj, torch.tensor([0.0, 2.0])) and kept.grad.shape == (2, 3)
