"""Sweeps on a Dask LocalCluster (issue 10): equal to the single-process solve, robust to a lost
worker, resumable, clear errors.  toy-scenes' cheap layer, n = 3, the ``tiny`` preset: the whole
file runs in about a minute on two cores (one 2-process cluster shared by the tests).
"""
from __future__ import annotations

import json

import pytest

distributed = pytest.importorskip("distributed")

import prsg_widgets as pw  # noqa: E402
from prsg_widgets import metrics as M  # noqa: E402
from prsg_widgets.cli import main  # noqa: E402
from prsg_widgets.sweep import Study, parse_seeds  # noqa: E402
from prsg_widgets.sweep.study import scaled_k, transfer_ratio  # noqa: E402

SETTINGS = dict(cheap=True, preset="tiny", batch_size=8)   # the same batch in every process
SEEDS = [0, 1, 2]
N = 3


@pytest.fixture(scope="module")
def client():
    cl = pw.sweep.make_client(workers=2)   # the embedded cluster sweep() starts, kept for the module
    yield cl
    cl.close()
    cl.cluster.close()


@pytest.fixture(scope="module")
def first_sweep(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    # chunk=3: each image's 7 subsets are spread over 3 tasks (and so over both workers)
    study = pw.sweep("toy-scenes", seeds=SEEDS, n=N, out=out, client=client, chunk=3, progress=False, **SETTINGS)
    return out, study


def _reference(patches):
    """The single-process solve of every image (no cache), as `prsg explain` would do it."""
    ex = pw.Explainer("toy-scenes", cheap=True, solver="tiny", batch_size=8, progress=False)
    expls = {s: ex.explain(s, patches=patches).solve_all() for s in SEEDS}
    return ex, expls


def test_sweep_equals_single_process(first_sweep):
    out, study = first_sweep
    patches = study.images[0]["patches"]
    assert all(im["patches"] == patches for im in study.images)      # same positions by default
    ex, ref = _reference(patches)
    assert patches == ex.explain(SEEDS[0], n=N).patches                # the first image's foreground
    with pw.Explainer("toy-scenes", cheap=True, solver="tiny", batch_size=8, progress=False,
                      cache_dir=out / "cache") as loaded:
        for s in SEEDS:
            got = loaded.explain(s, patches=patches)
            assert got.is_complete                                     # everything is in the shared cache
            a, b = got.minimal_features(), ref[s].minimal_features()
            assert float((a - b).abs().max()) <= 1e-6 * float(b.abs().max())
            im = next(i for i in study.images if i["seed"] == s)
            assert im["health"]["cancellation"] == pytest.approx(ref[s].health().cancellation, rel=1e-5)
    # transferability over the 6 ordered pairs is the metric's own number
    data = json.loads((out / "study.json").read_text())
    t = data["transferability"]
    assert len(t["pairs"]) == len(SEEDS) * (len(SEEDS) - 1)
    ka, kb = scaled_k(N)
    for p in t["pairs"]:
        assert p["ratio"] == pytest.approx(M.transferability(ref[p["a"]], ref[p["b"]], ka, kb).ratio)
        assert p["symmetric"] == pytest.approx(M.transferability(ref[p["a"]], ref[p["b"]], ka, ka).ratio)
    assert (out / "study.md").read_text().count("88.0%") == 1 and (out / "study.png").stat().st_size > 0
    assert Study.load(out).transfer["pairs"] == t["pairs"]
    ex.close()


def test_rerun_solves_nothing_new(first_sweep, client):
    out, study = first_sweep
    assert study.run["solved_now"] == len(SEEDS) * ((1 << N) - 1)
    again = pw.sweep("toy-scenes", seeds=SEEDS, n=N, out=out, client=client, chunk=3, progress=False, **SETTINGS)
    assert again.run["solved_now"] == 0 and again.run["chunks"] == 0
    assert again.run["skipped"] == len(SEEDS) * ((1 << N) - 1)
    assert again.transfer["pairs"] == study.transfer["pairs"]


def test_lost_worker_is_retried(client, tmp_path, first_sweep):
    marker = tmp_path / "killed-once"
    study = pw.sweep("toy-scenes", seeds=SEEDS[:2], n=N, out=tmp_path / "out", client=client, chunk=4,
                     progress=False, fault_marker=str(marker), **SETTINGS)
    assert marker.exists()                                  # a worker process really died mid-task
    assert sorted(im["seed"] for im in study.images) == SEEDS[:2]
    # every result is there and equals the first sweep's (lost half-chunk: on disk or solved again)
    _, first = first_sweep
    assert [p["ratio"] for p in study.transfer["pairs"]] == [
        p["ratio"] for p in first.transfer["pairs"] if p["a"] in SEEDS[:2] and p["b"] in SEEDS[:2]]
    with pw.Explainer("toy-scenes", cheap=True, solver="tiny", batch_size=8, progress=False,
                      cache_dir=tmp_path / "out" / "cache") as ex:
        assert all(ex.explain(s, patches=study.images[0]["patches"]).is_complete for s in SEEDS[:2])


@pytest.mark.parametrize("address", ["tcp://[::1]:8786", "tcp://[fe80::1]:1", "tcp://10.0.0.5:8786", "tls://host:1"])
def test_scheduler_addresses_dask_accepts_pass_the_check(address):
    from prsg_widgets.sweep.cluster import check_scheduler_address

    assert check_scheduler_address(address) == address


def test_bad_scheduler_address_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="not a Dask address"):
        pw.sweep("toy-scenes", seeds="0:2", n=3, out=tmp_path, scheduler="localhost8786", progress=False)
    with pytest.raises(ValueError, match=r"cannot reach a Dask scheduler at tcp://127\.0\.0\.1:9 "):
        pw.sweep("toy-scenes", seeds="0:2", n=3, out=tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)


@pytest.mark.parametrize("text, expected", [("0:4", [0, 1, 2, 3]), ("2:8:3", [2, 5]), ("3,5,9", [3, 5, 9]),
                                            (2, [0, 1])])
def test_parse_seeds(text, expected):
    assert parse_seeds(text) == expected


@pytest.mark.parametrize("bad", ["4:0", "a:b", "1:2:0", "", "1,1"])
def test_parse_seeds_refuses(bad):
    with pytest.raises(ValueError):
        parse_seeds(bad)


def test_transfer_ratio_and_scaled_k():
    assert scaled_k(9) == (20, 100) and scaled_k(4) == (1, 3) and scaled_k(3, 2, 5) == (2, 5)
    assert transfer_ratio([(1,), (2,)], [(2,), (3,), (1, 2)], 2, 2) == 0.5


def test_cli_sweep_writes_the_study(tmp_path, capsys):
    """The issue's command (cluster of 2 worker processes), on 3 seeds to stay short."""
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--seeds", "0:3", "--n", "3", "--workers", "2",
               "--preset", "tiny", "--batch-size", "8", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    data = json.loads((tmp_path / "study.json").read_text())
    assert len(data["transferability"]["pairs"]) == 6 and len(data["images"]) == 3
    assert all("cancellation" in im["health"] for im in data["images"])
    assert "study.json" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--seeds", "5:1"], "seeds"),
    (["--n", "0"], "n"),
    (["--scheduler", "nowhere"], "Dask address"),
    (["--workers", "0"], "workers"),
    (["--k-a", "-1"], "k_a must be a whole number"),
    (["--k-a", "0"], "k_a must be a whole number"),
    (["--k-b", "0"], "k_b must be a whole number"),
    (["--k-a", "4", "--k-b", "2"], "k_a = 4 is above k_b = 2"),
    (["--seeds", "0:1000000000"], "select 1,000,000,000 images; a sweep takes at most 100,000"),
    (["--seeds", "0:1000000"], "a sweep takes at most 100,000"),
])
def test_cli_sweep_checks_arguments_before_a_cluster_starts(tmp_path, capsys, args, message):
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--out", str(tmp_path)] + args)
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("prsg: error:") and message in err and err.count("\n") == 1


def test_cli_sweep_refuses_a_file_as_out(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["sweep", "--model", "toy-scenes", "--out", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_explainer_with_a_client_farms_chunks_to_the_cluster(client, tmp_path, first_sweep):
    """Explainer(client=...): the lazy backend solves through the cluster; listeners hear each chunk."""
    _, study = first_sweep
    patches = study.images[0]["patches"]
    _, ref = _reference(patches)
    heard = []
    with pw.Explainer("toy-scenes", cheap=True, solver="tiny", batch_size=2, progress=False,
                      cache_dir=tmp_path, client=client) as ex:
        expl = ex.explain(SEEDS[1], patches=patches)
        expl.on_update(lambda e, rows: heard.append(sorted(rows)))
        fut = expl.submit()                      # returns at once; chunks of 2 subsets run on the workers
        fut.result(timeout=120)
        assert expl.is_complete and len(heard) >= 2
        a, b = expl.minimal_features(), ref[SEEDS[1]].minimal_features()
        assert float((a - b).abs().max()) <= 1e-6 * float(b.abs().max())
    with pytest.raises(ValueError, match="needs cache_dir"):
        pw.Explainer("toy-scenes", cheap=True, client=client)


def test_gpus_without_dask_cuda_names_the_extra(tmp_path, capsys):
    try:
        import dask_cuda  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        pytest.skip("dask-cuda is installed here")
    assert main(["sweep", "--model", "toy-scenes", "--cheap", "--gpus", "--out", str(tmp_path)]) == 2
    assert "pip install 'prsg_widgets[gpu]'" in capsys.readouterr().err


# ---------------------------------------------------------------- cluster faults (issue 18, point 4)
def _server(reply: bytes):
    """A loopback TCP server: ``reply`` to every connection (b"": accept-less, never answers)."""
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    if reply:
        def serve():
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                conn.sendall(reply)
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
    return sock, f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def test_a_port_where_something_else_answers_is_one_clear_line(tmp_path, capsys):
    sock, address = _server(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 40)
    try:
        rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--n", "3", "--scheduler", address,
                   "--out", str(tmp_path), "--no-progress"])
    finally:
        sock.close()
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "answered, but not in Dask's protocol" in err, err


def test_a_port_that_never_replies_times_out_within_the_timeout():
    import time

    sock, address = _server(b"")
    start = time.monotonic()
    try:
        with pytest.raises(ValueError, match=r"cannot reach a Dask scheduler at .* within 1 s \(no answer\)"):
            pw.sweep.make_client(scheduler=address, timeout=1.0)
    finally:
        sock.close()
    assert time.monotonic() - start < 4


@pytest.mark.parametrize("args, message", [
    (["--patches", "1,2,99"], "out of range"),
    (["--n", "20"], "20"),
    (["--layer", "main.99"], "no layer named 'main.99' in toy-scenes"),
    (["--patches", "1,2", "--n", "3"], "contradicts"),
    (["--grid", "64"], "finer than the 32×32 image"),
])
def test_cli_sweep_refuses_what_workers_would_refuse_before_any_starts(tmp_path, capsys, args, message, monkeypatch):
    from prsg_widgets.sweep import cluster

    monkeypatch.setattr(cluster, "make_client", lambda *a, **k: pytest.fail("a cluster was started"))
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--out", str(tmp_path)] + args)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_ctrl_c_on_sweep_says_where_the_work_is(tmp_path, capsys, monkeypatch):
    from prsg_widgets.sweep import api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "_run", interrupted)
    rc = main(["sweep", "--model", "toy-scenes", "--cheap", "--n", "3", "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 130 and err.startswith("prsg: interrupted:") and str(tmp_path / "cache") in err, err
