"""The explanation's public reading API: metadata as a read-only mapping, subsets given as
``ranking()`` entries or components, and the messages for a ``keep`` that is none of them.
"""
import copy
import dataclasses
import json
import pickle
from collections.abc import Mapping

import numpy as np
import pytest
import torch

from prsg_widgets import Explainer, Explanation
from prsg_widgets.backend.explanation import ExplainerLike, ExplanationMeta, RankingEntry
from prsg_widgets.widgets._captions import caption

# The order and names of the metadata fields in a saved explanation (file format 3).
SAVED_FIELDS = ["model", "layer", "grid", "image_shape", "value_range", "feature_shape", "solver", "fingerprint",
                "baseline_samples", "baseline_seed", "seed", "label", "version", "format", "precision"]


@pytest.fixture
def solved(tiny_explainer):
    return tiny_explainer.explain(1, patches=[0, 5, 10]).solve_all()


def test_meta_reads_as_attributes_and_as_a_mapping(solved, tiny_explainer):
    meta = solved.meta
    assert isinstance(meta, Mapping)
    assert meta["model"] == meta.model == "tiny" and meta.get("seed") == 1 == meta.seed
    assert meta.get("no such field") is None and meta.get("no such field", 7) == 7
    assert "grid" in meta and "nope" not in meta and len(meta) == len(SAVED_FIELDS)
    as_dict = dict(meta)
    assert list(as_dict) == SAVED_FIELDS
    assert as_dict["image_shape"] == (3, 8, 8) and as_dict["feature_shape"] == (8, 4, 4)
    assert dict(meta["solver"]) == tiny_explainer.config.as_dict()
    with pytest.raises(KeyError, match="fields: model, layer"):
        meta["modle"]


def test_meta_cannot_be_changed(solved, tiny_explainer):
    meta = solved.meta
    with pytest.raises(TypeError):
        meta["model"] = "other"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.model = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        meta.solver["iterations"] = 1  # type: ignore[index]
    settings = {"iterations": 5}
    built = ExplanationMeta("m", "l", 2, (3, 8, 8), (-1.0, 1.0), (4,), solver=settings)
    settings["iterations"] = 6  # the caller's dict is not the record's
    assert built.solver["iterations"] == 5


def test_meta_saves_and_loads_as_before(tmp_path, solved, tiny_explainer):
    path = solved.save(tmp_path / "e.npz")
    with np.load(path) as data:
        saved = json.loads(str(data["meta"]))
    assert list(saved) == SAVED_FIELDS and saved["format"] == 3
    assert saved["image_shape"] == [3, 8, 8] and saved["feature_shape"] == [8, 4, 4]
    assert saved["value_range"] == [-1.0, 1.0] and saved["seed"] == 1
    assert saved["solver"] == json.loads(json.dumps(tiny_explainer.config.as_dict()))
    loaded = Explanation.load(path)
    assert json.dumps(loaded.meta.as_dict()) == json.dumps(solved.meta.as_dict())
    again = loaded.save(tmp_path / "again.npz")
    with np.load(again) as data:
        assert json.loads(str(data["meta"])) == saved
    for copied in (pickle.loads(pickle.dumps(solved.meta)), copy.deepcopy(solved.meta)):
        assert copied == solved.meta and copied.as_dict() == solved.meta.as_dict()


def test_caption_of_a_loaded_explanation_names_the_model_of_its_metadata(tmp_path, solved):
    loaded = Explanation.load(solved.save(tmp_path / "e.npz"))
    assert loaded.explainer is None
    assert caption(loaded) == "tiny · seed 1 · N = {0, 5, 10}"


def test_ranking_entries_are_named_pairs(solved):
    ranked = solved.ranking()
    assert len(ranked) == 7 and all(isinstance(r, RankingEntry) for r in ranked)
    s, norm = ranked[0]
    assert (s, norm) == (ranked[0].subset, ranked[0].norm) and norm == max(r.norm for r in ranked)


@pytest.mark.parametrize("k", [1, 4, 7])
def test_reconstruct_takes_what_ranking_and_components_return(solved, k):
    top = solved.ranking()[:k]
    plain = solved.reconstruct([s for s, _ in top])
    torch.testing.assert_close(solved.reconstruct(top), plain, rtol=0, atol=0)
    torch.testing.assert_close(solved.reconstruct(solved.components(top=k)), plain, rtol=0, atol=0)
    as_ids = [solved.subset_patches(s) for s, _ in top]
    torch.testing.assert_close(solved.reconstruct(as_ids), plain, rtol=0, atol=0)
    mask = np.zeros(solved.num_subsets, dtype=bool)
    mask[[s for s, _ in top]] = True
    torch.testing.assert_close(solved.reconstruct(mask), plain, rtol=0, atol=0)
    torch.testing.assert_close(solved.reconstruct(torch.from_numpy(mask)), plain, rtol=0, atol=0)
    torch.testing.assert_close(solved.reconstruct(torch.tensor([s for s, _ in top])), plain, rtol=0, atol=0)
    kept = solved.baseline + sum(solved.component(s) for s, _ in top)  # Eq. 7 at T = N: every S meets N
    torch.testing.assert_close(plain[-1], kept, rtol=1e-5, atol=1e-6)


def test_subset_arguments_take_ranking_entries_and_components(solved):
    entry = solved.ranking()[0]
    comp = solved.components(top=1)[0]
    assert solved.subset(entry) == solved.subset(comp) == entry.subset
    torch.testing.assert_close(solved.component(entry), solved.component(entry.subset))
    other = solved.with_minimal_features(solved.minimal_features())  # the same patches: its components fit
    assert solved.subset(other.components(top=1)[0]) == entry.subset
    torch.testing.assert_close(solved.regional_patterns(solved.ranking()[:2]),
                               solved.regional_patterns([s for s, _ in solved.ranking()[:2]]))


@pytest.mark.parametrize("keep, error, match", [
    ("abc", TypeError, "keep takes a list of subsets .* got 'abc'"),
    (5, TypeError, "got 5"),
    ({1: 2.0}, TypeError, r"got \{1: 2.0\}"),
    ([1.5], ValueError, "item 0 is 1.5"),
    ([1, [99]], ValueError, "item 1 is \\[99\\]: patch 99 is not one of the selected patches"),
    ([(3, 6.14)], ValueError, r"\(3, 6.14\) looks like a \(subset, norm\) pair of ranking\(\); pass its subset 3"),
    ([8], ValueError, "out of range for n=3"),
    (np.ones(4, dtype=bool), ValueError, "boolean mask of 4 entries"),
])
def test_a_wrong_keep_says_what_was_passed_and_what_is_expected(solved, keep, error, match):
    with pytest.raises(error, match=match):
        solved.reconstruct(keep)


def test_a_component_of_other_patches_is_refused(tiny_explainer, solved):
    elsewhere = tiny_explainer.explain(1, patches=[1, 6, 11]).solve_all().components(top=1)
    with pytest.raises(ValueError, match="item 0 .*is not one of the selected patches"):
        solved.reconstruct(elsewhere)


def test_a_single_ranking_entry_is_refused_with_a_hint(solved):
    with pytest.raises(TypeError, match="got a single RankingEntry .*put it in a list"):
        solved.reconstruct(solved.ranking()[0])


def test_the_explainer_has_what_an_explanation_asks_of_it(tiny_explainer):
    members = [name for name in dir(ExplainerLike) if not name.startswith("_")] + ["device"]
    assert sorted(members) == ["device", "meta", "render", "solve", "submit"]
    for name in members:
        assert hasattr(tiny_explainer, name), name


def test_the_precision_that_ran_is_in_the_metadata_the_health_and_the_file(tmp_path, solved, tiny_generator):
    """Issue 26: which precision solved an explanation is said, not guessed — in its metadata, its
    health (health.json), the header's solver line, and its saved file; a file from before the
    field was recorded reads as fp32, and a file claiming another precision is refused.
    """
    from prsg_widgets.widgets.component_browser import _solver_line

    assert solved.meta.precision == "fp32" and solved.health().precision == "fp32"
    assert "solved in fp32" in solved.health().summary() and "· fp32" in _solver_line(solved)
    with Explainer(tiny_generator, grid=4, solver="tiny", progress=False, baseline_samples=64,
                   precision="bf16") as ex:
        e = ex.explain(1, patches=[0, 5]).solve_all()
        assert e.meta.precision == "bf16" and json.loads(e.health().to_json())["precision"] == "bf16"
        assert "bf16" in _solver_line(e)
        path = e.save(tmp_path / "bf16.npz")
    assert Explanation.load(path).meta.precision == "bf16"
    from prsg_widgets.backend.persistence.files import read_npz, write_npz

    arrays = {k: v for k, v in read_npz(path).items() if k != "checksum"}
    meta = json.loads(str(arrays["meta"]))
    for value, ok in ((None, True), ("fp8", False)):
        if value is None:
            meta.pop("precision")
        else:
            meta["precision"] = value
        arrays["meta"] = np.array(json.dumps(meta))
        write_npz(tmp_path / "edited.npz", arrays)  # checksum recomputed, as an editor would
        if ok:
            assert Explanation.load(tmp_path / "edited.npz").meta.precision == "fp32"
        else:
            with pytest.raises(ValueError, match="precision must be one of"):
                Explanation.load(tmp_path / "edited.npz")
