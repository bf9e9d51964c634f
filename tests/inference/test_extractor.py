"""Extraction from raw text with the joint model: Python API, CLI extract/evaluate/train, explain."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import biorelex
from biorelex.cli import app
from biorelex.data import formats
from biorelex.inference.extractor import Extractor

runner = CliRunner()


def test_load_extract_finds_entities_and_relations_in_plain_text(trained_joint_run):
    extractor = biorelex.load(str(trained_joint_run / "run" / "model"), progress=False)
    assert isinstance(extractor, Extractor)
    document = extractor.extract("aspirin inhibits cox 1 . caffeine and protein .")
    assert len(document.sentences) == 2  # split into sentences
    found = {(e.text, e.type) for e in document.entities}
    assert {("aspirin", "Drug"), ("cox 1", "Gene"), ("caffeine", "Drug"), ("protein", "Gene")} <= found
    for relation in document.relations:  # relations stay within a sentence and carry a score
        head, tail = document.entity(relation.head), document.entity(relation.tail)
        assert any(
            s <= min(head.start, tail.start) and max(head.end, tail.end) <= e for s, e in document.sentences
        )
        assert 0.0 < relation.score <= 1.0


def test_batch_predictions_equal_single_sentence_predictions(trained_joint_run):
    extractor = Extractor.from_directory(trained_joint_run / "run" / "model", progress=False)
    documents = list(formats.read(trained_joint_run / "corpus" / "joint_test.json"))[:12]
    together = extractor.predict(documents)
    extractor.batch_size = 1
    alone = extractor.predict(documents)
    for a, b in zip(together, alone, strict=True):
        assert [(e.spans, e.type) for e in a.entities] == [(e.spans, e.type) for e in b.entities]
        assert [(r.type, r.head, r.tail) for r in a.relations] == [
            (r.type, r.head, r.tail) for r in b.relations
        ]
        for x, y in zip(a.relations, b.relations, strict=True):
            assert abs(x.score - y.score) < 1e-5


def test_training_reports_end_to_end_scores(trained_joint_run):
    summary = json.loads((trained_joint_run / "run" / "results.json").read_text())
    assert summary["setting"]["entities"] == "predicted"
    test = summary["scores"]["test"]
    assert test["ner_f1"] > 0.9  # the tiny corpus's entities are learnable
    assert test["re_f1_strict"] > 0.3
    assert (trained_joint_run / "run" / "test" / "predictions.jsonl").exists()
    assert (trained_joint_run / "run" / "learning_curve.png").exists()
    with_gold = summary["scores"]["test_gold_entities"]  # the same model's RE over the gold mentions
    assert with_gold["ner_f1"] == 1.0 and with_gold["setting"].startswith("gold entities")
    assert (trained_joint_run / "run" / "test_gold_entities" / "scores.json").exists()


def test_cli_extract_prints_and_writes(trained_joint_run, tmp_path):
    model = trained_joint_run / "run" / "model"
    abstract = tmp_path / "abstract.txt"
    abstract.write_text("aspirin inhibits cox 1 . ibuprofen activates receptor .\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(abstract), "-m", str(model)])
    assert result.exit_code == 0, result.output
    assert "abstract: " in result.output and "'aspirin'" in result.output and "Drug" in result.output
    lines = tmp_path / "lines.txt"
    lines.write_text("aspirin inhibits cox .\n\ncaffeine binds protein .\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["extract", str(lines), "--lines", "-m", str(model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    documents = list(formats.read(out))
    assert [d.id for d in documents] == ["lines:1", "lines:3"]
    assert all(d.entities for d in documents)


def test_cli_evaluate_joint_end_to_end_and_with_given_entities(trained_joint_run, tmp_path):
    model = trained_joint_run / "run" / "model"
    test = trained_joint_run / "corpus" / "joint_test.json"
    result = runner.invoke(app, ["evaluate", str(model), str(test), "-o", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "RE F1 strict" in result.output and "predicted entities" in result.output
    assert (tmp_path / "report" / "scores.json").exists()
    result = runner.invoke(app, ["evaluate", str(model), str(test), "--entities", "given"])
    assert result.exit_code == 0, result.output
    assert (
        "NER F1 100.00" in result.output
        and "gold entities: relations by the joint model's RE" in result.output
    )
    out = tmp_path / "given.jsonl"
    result = runner.invoke(
        app, ["extract", str(test), "-m", str(model), "--entities", "given", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    gold = {d.id: d for d in formats.read(test)}
    for document in formats.read(out):
        assert document.entities == gold[document.id].entities  # the input's own, untouched
        ids = {e.id for e in document.entities}
        assert all(r.head in ids and r.tail in ids and r.score is not None for r in document.relations)


def test_given_entities_score_as_end_to_end_where_the_ner_is_perfect(trained_joint_run):
    """Fed the gold tags, RE sees what it sees end to end where NER tags a document exactly right."""
    import torch

    from biorelex.data.tagging import tag_document

    model_dir = trained_joint_run / "run" / "model"
    documents = list(formats.read(trained_joint_run / "corpus" / "joint_test.json"))
    joint = Extractor.from_directory(model_dir, progress=False)
    end_to_end = joint.predict(documents)
    given = Extractor.from_directory(model_dir, progress=False, entities="given").predict(documents)
    model = joint.model

    def tagged_exactly(document):
        sentences = tag_document(document, None, model.joint.splitter)
        batch = model.collate([model.encode(s, document.text) for s in sentences])
        with torch.inference_mode():
            tags = model(batch).tag_logits.argmax(-1).masked_fill(~batch["word_mask"], -100)
        return torch.equal(tags, batch["tags"])

    def relations(document):
        spans = {e.id: (e.spans, e.type) for e in document.entities}
        return sorted((r.type, spans[r.head], spans[r.tail], round(r.score, 5)) for r in document.relations)

    compared = 0
    for gold, predicted, with_gold in zip(documents, end_to_end, given, strict=True):
        assert with_gold.entities == gold.entities
        if tagged_exactly(gold):
            assert relations(with_gold) == relations(predicted)
            compared += 1 if predicted.relations else 0
    assert compared >= 3, "the tiny model tags enough test documents exactly to compare"
    # and RE reads the given tags, not its own: swapping the given types changes what it finds
    import dataclasses

    swap = {"Drug": "Gene", "Gene": "Drug"}
    swapped = [
        dataclasses.replace(d, entities=tuple(dataclasses.replace(e, type=swap[e.type]) for e in d.entities))
        for d in documents
    ]
    again = Extractor.from_directory(model_dir, progress=False, entities="given").predict(swapped)
    assert [[(r.head, r.tail, r.type) for r in d.relations] for d in again] != [
        [(r.head, r.tail, r.type) for r in d.relations] for d in given
    ]


def test_given_entities_of_an_unknown_type_are_refused(trained_joint_run):
    from biorelex.document import Document, Entity
    from biorelex.errors import ConfigError

    extractor = Extractor.from_directory(
        trained_joint_run / "run" / "model", progress=False, entities="given"
    )
    document = Document("d", "aspirin inhibits cox .", (Entity("T1", "Protein", ((17, 20),), "cox"),))
    with pytest.raises(ConfigError, match=r"given entity types \['Protein'\]"):
        extractor.predict([document])
    (empty,) = extractor.predict([Document("e", "   ")])  # no words: no sentence to score, no error
    assert empty.relations == () and empty.entities == ()


def test_cli_train_joint_and_explain(tiny_encoder_dir, tmp_path):
    from tests.conftest import json_string, write_joint_corpus

    corpus = write_joint_corpus(tmp_path / "corpus", {"train": 24, "test": 8})
    config = tmp_path / "joint.toml"
    config.write_text(
        f"[model]\ntask = 'joint'\nencoder = {json_string(tiny_encoder_dir)}\nmax_length = 32\n"
        f"[data]\ncorpus = ''\ntrain = {json_string(corpus / 'joint_train.json')}\ndev = ''\n"
        f"test = {json_string(corpus / 'joint_test.json')}\n[train]\nepochs = 2\nbatch_size = 8\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["train", str(config), "-o", str(tmp_path / "run"), "--set", "joint.ramp_epochs=0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "test: NER F1" in result.output and "RE F1 strict" in result.output
    saved = json.loads((tmp_path / "run" / "model" / "biorelex.json").read_text())
    assert saved["kind"] == "joint" and saved["joint"]["ramp_epochs"] == 0.5
    result = runner.invoke(
        app,
        [
            "explain",
            str(tmp_path / "run" / "model"),
            "aspirin inhibits cox",
            "-o",
            str(tmp_path / "att"),
            "--layer",
            "0",
            "--layer",
            "1",
            "--head",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "att").iterdir()) == [
        "layer0_head2.png",
        "layer0_mean.png",
        "layer1_head2.png",
        "layer1_mean.png",
    ]
    result = runner.invoke(app, ["explain", str(tmp_path / "run" / "model"), "aspirin", "--layer", "7"])
    assert result.exit_code == 2 and "layer 7 does not exist" in result.output


def test_pipeline_mode_puts_a_relation_classifier_behind_the_entities(trained_joint_run, trained_tiny_run):
    from biorelex.document import Document
    from biorelex.inference.predictor import Predictor

    joint_dir = trained_joint_run / "run" / "model"
    classifier_dir = trained_tiny_run / "run" / "model"
    labels = set(Predictor.from_directory(classifier_dir).labels.labels)
    extractor = Extractor.from_directory(joint_dir, classifier_dir=classifier_dir, progress=False)
    text = "aspirin inhibits cox . caffeine activates receptor ."
    predicted = extractor.predict([Document("d", text)])[0]
    joint_only = Extractor.from_directory(joint_dir, progress=False).predict([Document("d", text)])[0]
    assert [(e.spans, e.type) for e in predicted.entities] == [(e.spans, e.type) for e in joint_only.entities]
    assert predicted.relations and {r.type for r in predicted.relations} <= labels
    given = Extractor.from_directory(
        joint_dir, classifier_dir=classifier_dir, entities="given", progress=False
    )
    document = list(formats.read(trained_joint_run / "corpus" / "joint_test.json"))[0]
    result = given.predict([document])[0]
    assert result.entities == document.entities  # the input's entities are kept as they are
    assert {r.type for r in result.relations} <= labels
