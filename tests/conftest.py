"""Shared fixtures: the tiny committed corpora and the shared benchmark data."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorelex.data.corpora import data_dir

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $BIORELEX_DATA); tests needing it are skipped where it is absent."""
    root = data_dir()
    if not (root / "README.md").exists():
        pytest.skip(f"shared corpora not found at {root}")
    return root


@pytest.fixture(scope="session")
def _tiny_bert_session():
    """A tiny random BERT (transformers' test-size config), built once per session."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37
    )
    return BertModel(config, add_pooling_layer=False).eval()


@pytest.fixture
def tiny_bert(_tiny_bert_session):
    """A deep copy per test, so no test sees another's training."""
    import copy

    return copy.deepcopy(_tiny_bert_session)


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A BERT WordPiece tokenizer over the small committed vocabulary (no network)."""
    from transformers import BertTokenizerFast

    tokens = (FIXTURES / "tiny_vocab.txt").read_text(encoding="utf-8").split()
    return BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)}, do_lower_case=True)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory, _tiny_bert_session, tiny_tokenizer) -> Path:
    """The tiny BERT and its tokenizer saved as a local encoder directory (what users pass by path)."""
    directory = tmp_path_factory.mktemp("tiny-encoder")
    _tiny_bert_session.save_pretrained(directory)
    tiny_tokenizer.save_pretrained(directory)
    return directory


VERBS = {"inhibits": "CPR:4", "activates": "CPR:3", "binds": "CPR:3", "and": "false"}


def write_pair_corpus(directory: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    """A learnable BLURB-format pair corpus in the tiny vocabulary: the verb decides the label."""
    import json
    import random

    rng = random.Random(seed)
    chemicals, genes = ["aspirin", "caffeine", "ibuprofen"], ["cox", "receptor", "protein"]
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in sizes.items():
        lines = []
        for i in range(size):
            chemical, gene, verb = rng.choice(chemicals), rng.choice(genes), list(VERBS)[i % len(VERBS)]
            sentence = f"{chemical} {verb} the {gene} in cells ."
            start = sentence.index(gene, len(chemical))
            record = {
                "id": f"{split}.{i}",
                "sentence": sentence,
                "label": VERBS[verb],
                "chem": {"id": "T1", "type": "CHEMICAL", "start": 0, "end": len(chemical), "text": chemical},
                "gene": {
                    "id": "T2",
                    "type": "GENE-Y",
                    "start": start,
                    "end": start + len(gene),
                    "text": gene,
                },
            }
            lines.append(json.dumps(record))
        (directory / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def pair_corpus(tmp_path) -> Path:
    return write_pair_corpus(tmp_path / "corpus", {"train": 48, "dev": 16, "test": 16})


def tiny_config(encoder, corpus, *overrides: str):
    """An entity_start/markers run on a tiny pair corpus (30 epochs unless overridden)."""
    from biorelex.config import load_config

    return load_config(
        None,
        [
            f"model.encoder='{encoder}'",
            "model.head='entity_start'",
            "model.representation='markers'",
            "data.corpus=''",
            f"data.train='{corpus}/train.jsonl'",
            f"data.dev='{corpus}/dev.jsonl'",
            f"data.test='{corpus}/test.jsonl'",
            "train.epochs=30",
            "train.batch_size=8",
            "train.lr=3e-3",
            *overrides,
        ],
    )


@pytest.fixture(scope="session")
def trained_tiny_run(tmp_path_factory, tiny_encoder_dir) -> Path:
    """A tiny entity_start/markers classifier trained on the learnable pair corpus (run directory)."""
    from biorelex.training.trainer import train

    root = tmp_path_factory.mktemp("trained-tiny")
    corpus = write_pair_corpus(root / "corpus", {"train": 48, "dev": 16, "test": 24})
    config = tiny_config(tiny_encoder_dir, corpus, "train.epochs=15")
    train(config, root / "run")
    return root


JOINT_VERBS = {"inhibits": "Inhibit", "activates": "Activate", "binds": "Activate", "and": None}


def write_joint_corpus(directory: Path, sizes: dict[str, int], seed: int = 0) -> Path:
    """A learnable SpERT-JSON corpus in the tiny vocabulary: drugs, genes (some two words long) and
    the verb between them deciding the relation; some sentences hold two clauses."""
    import json
    import random

    rng = random.Random(seed)
    drugs, genes = ["aspirin", "caffeine", "ibuprofen"], [["cox"], ["receptor"], ["protein"], ["cox", "1"]]
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in sizes.items():
        records = []
        for i in range(size):
            tokens: list[str] = []
            entities: list[dict] = []
            relations: list[dict] = []
            for clause in range(rng.choice([1, 1, 2])):
                if clause:
                    tokens.append(",")
                verb = rng.choice(list(JOINT_VERBS))
                gene = rng.choice(genes)
                entities.append({"type": "Drug", "start": len(tokens), "end": len(tokens) + 1})
                tokens += [rng.choice(drugs), verb]
                entities.append({"type": "Gene", "start": len(tokens), "end": len(tokens) + len(gene)})
                tokens += gene
                if JOINT_VERBS[verb]:
                    relations.append(
                        {"type": JOINT_VERBS[verb], "head": len(entities) - 2, "tail": len(entities) - 1}
                    )
            tokens.append(".")
            records.append(
                {"tokens": tokens, "entities": entities, "relations": relations, "orig_id": f"{split}{i}"}
            )
        (directory / f"joint_{split}.json").write_text(json.dumps(records), encoding="utf-8")
    return directory


def joint_config(encoder: Path, corpus: Path, *overrides: str):
    """A joint NER+RE run config on the tiny SpERT corpus written by :func:`write_joint_corpus`."""
    from biorelex.config import load_config

    return load_config(
        None,
        [
            f"model.encoder={json_string(encoder)}",
            "model.task=joint",
            "model.max_length=64",
            "data.corpus=none",
            f"data.train={json_string(corpus / 'joint_train.json')}",
            f"data.dev={json_string(corpus / 'joint_dev.json')}",
            f"data.test={json_string(corpus / 'joint_test.json')}",
            "train.epochs=12",
            "train.lr=3e-3",
            "train.batch_size=8",
            "train.eval_batch_size=16",
            *overrides,
        ],
    )


def json_string(value: object) -> str:
    import json

    return json.dumps(str(value))


@pytest.fixture(scope="session")
def trained_joint_run(tmp_path_factory, tiny_encoder_dir) -> Path:
    """A tiny joint NER+RE model trained on the learnable SpERT corpus (root with corpus/ and run/)."""
    from biorelex.training.joint import train_joint

    root = tmp_path_factory.mktemp("trained-joint")
    corpus = write_joint_corpus(root / "corpus", {"train": 120, "dev": 30, "test": 30})
    train_joint(joint_config(tiny_encoder_dir, corpus), root / "run")
    return root
