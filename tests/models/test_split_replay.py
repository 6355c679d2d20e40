"""The replay tail (issue 11): non-Sequential splits record the head once per code."""
import threading

import pytest
import torch
from torch import nn

from prsg_widgets import split_generator


class Counting(nn.Module):
    """Counts its forward calls, so a test can see the head is not re-run."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


class SkipGen(nn.Module):
    """Head → mid (split inside it) with a skip around it, a shared activation used in head and
    tail, a tuple-returning block, a conditioning vector from the code used after the layer, and
    an in-place update of a head value after the layer.
    """

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inp = Counting(nn.Linear(6, 32))
        self.act = nn.ReLU()  # shared: called in the head and in the tail
        self.pair = nn.Linear(32, 64)
        self.mid = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32))
        self.cond = nn.Linear(6, 32)
        self.out = nn.Linear(32, 3 * 4 * 4)

    def forward(self, z):
        h = self.act(self.inp(z))
        a, b = self.split_pair(h)
        skip = self.act(a)  # a head value ...
        y = self.mid(b)
        skip += y  # ... changed in place after the layer ran
        c = self.cond(z)
        return torch.tanh(self.out(self.act(skip) * c)).view(-1, 3, 4, 4)

    def split_pair(self, h):
        p = self.pair(h)
        return p[:, :32], p[:, 32:]


def test_replay_matches_hook_outputs_and_gradients_and_skips_the_head():
    g = split_generator(SkipGen(), "mid.1", sample_codes=(6,))
    assert g.tail_path == "replay" and g.tail_paths == ("replay", "hook")
    code = torch.randn(1, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        f = g.head(code)
        full = g.generate(code)
    counter = g.module.inp
    results = {}
    for path in ("hook", "replay", "replay"):  # replay twice: from a new record, then from the kept one
        before = counter.calls
        m = torch.rand(5, g.d, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
        x = g.tail(m * f.reshape(1, -1), code, path=path)
        (grad,) = torch.autograd.grad(x.square().sum(), m)
        results.setdefault(path, []).append((x.detach(), grad, counter.calls - before))
        with torch.no_grad():
            torch.testing.assert_close(g.tail(f, code, path=path), full)
    (hx, hg, hcalls), = results["hook"]
    assert hcalls == 1  # the hook path re-runs the head on every call
    for rx, rg, rcalls in results["replay"]:
        torch.testing.assert_close(rx, hx, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(rg, hg, rtol=1e-6, atol=1e-7)
        assert rcalls <= 1  # at most one head pass, to record a new code
    assert results["replay"][1][2] == 0


def test_replay_keeps_records_per_code_and_drops_them_on_to():
    g = split_generator(SkipGen(), "mid.1", sample_codes=(6,))
    codes = [torch.randn(1, 6, generator=torch.Generator().manual_seed(s)) for s in range(3)]
    with torch.no_grad():
        for c in codes:
            torch.testing.assert_close(g.tail(g.head(c), c), g.generate(c))
        assert len(g._records) == 2
        # a batch of distinct codes, one feature each
        batch = torch.cat(codes)
        torch.testing.assert_close(g.tail(g.head(batch), batch), g.generate(batch))
    g.to("cpu")
    assert len(g._records) == 0


def test_copies_for_at_most_two_batch_sizes_and_each_size_is_right():
    g = split_generator(SkipGen(), "mid.1", sample_codes=(6,))
    code = torch.randn(1, 6)
    with torch.no_grad():
        f = g.head(code)
        for batch in (5, 4, 3, 2, 1, 5):  # the solver's pool shrinking, then a new image
            feats = f.expand(batch, -1) * torch.linspace(0.5, 1.5, batch).unsqueeze(1)
            torch.testing.assert_close(g.tail(feats, code), g.tail(feats, code, path="hook"))
    (record,) = g._records.values()
    assert list(record._copies) == [1, 5]


def test_layer_called_first_falls_back_to_the_hook_path():
    class FirstIsLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 8)
            self.b = nn.Linear(8, 3 * 2 * 2)

        def forward(self, z):
            h = self.a(z)
            return torch.tanh(self.b(h) + h.sum(1, keepdim=True)).view(-1, 3, 2, 2)

    g = split_generator(FirstIsLayer(), "a", sample_codes=(4,))
    assert g.tail_path == "hook"  # nothing finishes before the layer: nothing to replay


def test_other_threads_see_the_original_forward_during_a_replay():
    g = split_generator(SkipGen(), "mid.1", sample_codes=(6,))
    code = torch.randn(1, 6)
    other = torch.randn(1, 6)
    with torch.no_grad():
        want = g.generate(other)
    seen = []

    class Spy(nn.Module):  # runs inside the replay, after the layer: starts another thread's forward
        armed = True

        def forward(self, x):
            if self.armed:
                self.armed = False
                t = threading.Thread(target=lambda: seen.append(g.generate(other)))
                t.start()
                t.join()
            return x

    g.module.mid.append(Spy())
    with torch.no_grad():
        g.tail(g.head(code), code, path="replay")
    torch.testing.assert_close(seen[0], want)
    assert "forward" not in g.module.inp.__dict__  # patched forwards are removed afterwards


def test_unknown_path_is_an_error(tiny_generator):
    assert tiny_generator.tail_path == "sequential"
    with pytest.raises(ValueError, match="available"):
        tiny_generator.tail(torch.zeros(1, tiny_generator.d), path="replay")
