"""RelationModel over every head: overfit two documents, then identical predictions after save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from biorelex.config import ModelConfig
from biorelex.data.examples import LabelSet, build_examples, collate, iter_candidates
from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError
from biorelex.inference.predictor import TorchClassifier
from biorelex.models.heads import HEADS
from biorelex.models.relation_model import RelationModel


def two_documents() -> list[Document]:
    def document(doc_id: str, verb: str, label: str | None) -> Document:
        text = f"aspirin {verb} the cox in cells ."
        start = text.index("cox")
        return Document(
            id=doc_id,
            text=text,
            entities=(
                Entity("T1", "CHEMICAL", ((0, 7),), "aspirin"),
                Entity("T2", "GENE", ((start, start + 3),), "cox"),
            ),
            relations=(Relation("R1", label, "T1", "T2"),) if label else (),
        )

    return [document("d1", "inhibits", "CPR:4"), document("d2", "activates", "CPR:3")]


LABELS = LabelSet.from_labels(["CPR:3", "CPR:4"])


def examples(model: RelationModel, documents: list[Document]):
    config = model.config
    return build_examples(
        iter_candidates(documents, None), model.tokenizer, LABELS, config.representation, config.max_length
    )


@pytest.mark.parametrize("head", HEADS.names())
def test_overfit_two_documents_then_identical_after_save_and_load(
    head: str, tiny_encoder_dir, tmp_path
) -> None:
    torch.manual_seed(0)
    config = ModelConfig(encoder=str(tiny_encoder_dir), head=head, representation="markers", dropout=0.0)
    model = RelationModel.create(config, LABELS)
    batch = collate(examples(model, two_documents()), model.tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(80):
        output = model(batch)
        assert output.loss is not None
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    with torch.no_grad():
        logits = model(batch).logits
    assert logits.argmax(-1).tolist() == batch["labels"].tolist(), "the model did not overfit two documents"
    model.save(tmp_path / "model")
    loaded = RelationModel.load(tmp_path / "model")
    with torch.no_grad():
        reloaded = loaded(batch).logits
    torch.testing.assert_close(reloaded, logits)
    assert loaded.labels == LABELS
    assert not list((tmp_path).glob(".model.*")), "temporary directories left behind"


def test_batch_predictions_equal_single_predictions(tiny_encoder_dir) -> None:
    torch.manual_seed(0)
    model = RelationModel.create(
        ModelConfig(encoder=str(tiny_encoder_dir), head="entity_pool"), LABELS
    ).eval()
    documents = two_documents()
    long = Document(
        id="d3",
        text="caffeine and the protein in cells of patients with a drug .",
        entities=(
            Entity("T1", "CHEMICAL", ((0, 8),), "caffeine"),
            Entity("T2", "GENE", ((17, 24),), "protein"),
        ),
    )
    pairs = examples(model, [*documents, long])
    classifier = TorchClassifier(model, progress=False)
    together = classifier.predict_proba(pairs, batch_size=8)
    alone = [classifier.predict_proba([pair], batch_size=1)[0] for pair in pairs]
    torch.testing.assert_close(
        torch.from_numpy(together), torch.from_numpy(np.stack(alone)), atol=1e-5, rtol=1e-5
    )


def test_special_marker_tokens_are_added_and_initialised(tiny_encoder_dir, tmp_path) -> None:
    config = ModelConfig(encoder=str(tiny_encoder_dir), head="entity_start", representation="special")
    model = RelationModel.create(config, LABELS, {"CHEMICAL", "GENE"})
    tokenizer = model.tokenizer
    opener = tokenizer.convert_tokens_to_ids("<h:CHEMICAL>")
    assert opener != tokenizer.unk_token_id
    ids = examples(model, two_documents())[0].encoded.input_ids
    assert opener in ids, "the special marker is one token, not split into pieces"
    embeddings = model.encoder.get_input_embeddings().weight
    at = tokenizer.convert_tokens_to_ids("@")
    chemical = tokenizer.convert_tokens_to_ids("chemical")
    torch.testing.assert_close(embeddings[opener], (embeddings[at] + embeddings[chemical]) / 2)
    model.save(tmp_path / "model")
    loaded = RelationModel.load(tmp_path / "model")
    assert loaded.tokenizer.convert_tokens_to_ids("<h:CHEMICAL>") == opener


def test_special_markers_need_entity_types(tiny_encoder_dir) -> None:
    config = ModelConfig(encoder=str(tiny_encoder_dir), representation="special")
    with pytest.raises(ConfigError, match="entity types"):
        RelationModel.create(config, LABELS)


def test_loading_a_folder_that_is_not_a_model(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not a biorelex model directory"):
        RelationModel.load(tmp_path)
