"""The joint trainer's data limits and resume check (the model itself: tests/models/joint, tests/inference)."""

import json

import pytest

from biorelex.config import DataConfig, RunConfig
from biorelex.document import Document
from biorelex.errors import ConfigError
from biorelex.training.joint import _limit_documents, train_joint


def _documents(n: int) -> list[Document]:
    return [Document(id=f"d{i}", text="Aspirin inhibits COX-1.") for i in range(n)]


def test_max_examples_count_documents_for_the_joint_model():
    splits = {"train": _documents(5), "dev": _documents(4), "test": _documents(3)}
    data = DataConfig(max_train_examples=2, max_eval_examples=3, max_dev_examples=1)
    limited = _limit_documents(splits, data)
    assert [d.id for d in limited["train"]] == ["d0", "d1"]
    assert [d.id for d in limited["dev"]] == ["d0"]
    assert [d.id for d in limited["test"]] == ["d0", "d1", "d2"]
    assert len(splits["train"]) == 5  # the caller's lists are left alone


def test_no_limit_and_missing_splits_pass_through():
    splits = {"train": _documents(2), "dev": None, "test": None}
    assert _limit_documents(splits, DataConfig()) == splits


def test_resume_refuses_a_checkpoint_of_another_configuration(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "checkpoint" / "state.json").write_text(json.dumps({"epoch": 1}), encoding="utf-8")
    saved = RunConfig.model_validate({"model": {"task": "joint"}, "train": {"lr": 3e-5}})
    (run / "config.json").write_text(json.dumps(saved.model_dump()), encoding="utf-8")
    changed = saved.model_copy(update={"train": saved.train.model_copy(update={"lr": 1e-4})})
    with pytest.raises(ConfigError, match=r"train\.lr: 3e-05 -> 0\.0001"):
        train_joint(changed, run, resume=True, documents={"train": _documents(2)})
    assert json.loads((run / "config.json").read_text(encoding="utf-8")) == saved.model_dump()
