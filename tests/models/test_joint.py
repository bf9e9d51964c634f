"""The joint NER+RE model: shapes, the biaffine scorer by hand, lambda, candidates, overfit + reload."""

from __future__ import annotations

import pytest
import torch

from biorelex.config import JointConfig, ModelConfig
from biorelex.data.tagging import TaggedEntity, TaggedRelation, TaggedSentence, bioes_tags
from biorelex.models.joint.model import SHAPES, JointModel, word_shape
from biorelex.models.joint.scorer import BiaffineScorer
from biorelex.training.joint import re_weight

TAGS = ["O", "B-Drug", "I-Drug", "E-Drug", "S-Drug", "B-Gene", "I-Gene", "E-Gene", "S-Gene"]
RELATIONS = ["NEG", "Activate", "Inhibit"]


def make_model(tiny_bert, tiny_tokenizer, **joint):
    config = ModelConfig(encoder="tiny", task="joint", max_length=32, dropout=0.0)
    return JointModel.create(
        config,
        JointConfig(ner_hidden=16, label_embedding_dim=4, ffnn_size=8, **joint),
        TAGS,
        RELATIONS,
        encoder=tiny_bert,
        tokenizer=tiny_tokenizer,
    )


def sentence(text, entities, relations=()):
    words = []
    position = 0
    for word in text.split(" "):
        words.append((position, position + len(word)))
        position += len(word) + 1
    tagged = [TaggedEntity(*e) for e in entities]
    return TaggedSentence(
        "d",
        (0, len(text)),
        tuple(words),
        tuple(bioes_tags(len(words), tagged)),
        tuple(tagged),
        tuple(TaggedRelation(*r) for r in relations),
    )


TEXT_A = "aspirin inhibits cox 1 ."
A = sentence(TEXT_A, [(0, 0, "Drug"), (2, 3, "Gene")], [(0, 1, "Inhibit")])
TEXT_B = "caffeine activates receptor and ibuprofen binds protein ."
B = sentence(
    TEXT_B,
    [(0, 0, "Drug"), (2, 2, "Gene"), (4, 4, "Drug"), (6, 6, "Gene")],
    [(0, 1, "Activate"), (2, 3, "Activate")],
)


def test_biaffine_scorer_against_a_hand_computed_example():
    scorer = BiaffineScorer(size=2, n_classes=2)
    with torch.no_grad():
        scorer.bilinear.copy_(torch.tensor([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [3.0, 0.0]]]))  # (m, C, m)
        scorer.linear.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]))
        scorer.linear.bias.copy_(torch.tensor([0.5, -1.0]))
    heads = torch.tensor([[[1.0, 2.0]]])  # (batch 1, word 1, m 2)
    tails = torch.tensor([[[3.0, 4.0]]])
    # class c uses the matrix M_c[a, b] = U[a, c, b]: M_0 = [[1, 0], [0, 1]], M_1 = [[0, 2], [3, 0]]
    # class 0: h M_0 t = 1*3 + 2*4 = 11; W_0 . [h; t] = [1, 0, 0, 1] . [1, 2, 3, 4] = 5; b_0 = .5 -> 16.5
    # class 1: h M_1 t = 1*2*4 + 2*3*3 = 26; W_1 = 0; b_1 = -1 -> 25
    scores = scorer(heads, tails)
    assert scores.shape == (1, 1, 1, 2)
    assert scores[0, 0, 0].tolist() == pytest.approx([16.5, 25.0])
    linear = BiaffineScorer(size=2, n_classes=2, bilinear=False)
    assert linear.bilinear is None and linear(heads, tails).shape == (1, 1, 1, 2)


def test_lambda_ramps_linearly_then_stays_at_one():
    assert [re_weight(s, 10) for s in (0, 5, 10, 30)] == [0.0, 0.5, 1.0, 1.0]
    assert re_weight(0, 0) == 1.0  # the no-ramp ablation


@pytest.mark.parametrize(
    "ablation",
    [
        {},
        {"label_embeddings": False},
        {"ffnn": "shared"},
        {"ffnn": "none"},
        {"scorer": "linear"},
        {"word_shape_dim": 4},
    ],
)
def test_shapes_and_ablations(tiny_bert, tiny_tokenizer, ablation):
    model = make_model(tiny_bert, tiny_tokenizer, **ablation)
    examples = [model.encode(A, TEXT_A), model.encode(B, TEXT_B)]
    batch = model.collate(examples)
    output = model(batch, examples, re_weight=1.0, re_entities="gold")
    assert output.tag_logits.shape == (2, 8, len(TAGS))
    assert output.relation_logits.shape == (2, 8, 8, len(RELATIONS))
    output.loss.backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert any(n.startswith("head.scorer") for n in grads)
    assert any(n.startswith("head.ner") for n in grads)
    if ablation.get("ffnn") == "shared":
        assert model.head.tail_projection is None and model.head.head_projection is not None
    if ablation.get("ffnn") == "none":
        assert model.head.head_projection is None
    assert (model.head.label_embedding is None) == (ablation.get("label_embeddings") is False)
    assert (model.head.shape_embedding is None) == ("word_shape_dim" not in ablation)
    if "word_shape_dim" in ablation:
        assert "head.shape_embedding.weight" in grads


def test_word_shapes_by_hand():
    words = ["kinase", "Smith", "A", "EGFR", "mRNA", "McCain", "1990", "3.5", "CYP3A4", "p53", ",", "-"]
    expected = ["lower", "title", "title", "upper", "mixed", "mixed", "digits", "digits"]
    expected += ["alphanumeric", "alphanumeric", "other", "other"]
    assert [SHAPES[word_shape(w)] for w in words] == expected


def test_word_shapes_give_back_the_case_an_uncased_tokenizer_drops(tiny_bert, tiny_tokenizer):
    lower, title = "aspirin inhibits cox 1 .", "Aspirin inhibits COX 1 ."
    plain = make_model(tiny_bert, tiny_tokenizer)
    a, b = plain.encode(sentence(lower, []), lower), plain.encode(sentence(title, []), title)
    assert a.input_ids == b.input_ids  # the uncased tokenizer sees the same sentence
    assert [SHAPES[i] for i in b.shapes] == ["title", "lower", "upper", "digits", "other"]
    plain.eval()
    with torch.no_grad():
        assert torch.equal(plain(plain.collate([a])).tag_logits, plain(plain.collate([b])).tag_logits)
    shaped = make_model(tiny_bert, tiny_tokenizer, word_shape_dim=4)
    shaped.eval()
    with torch.no_grad():
        batch = shaped.collate([a, b])
        assert batch["word_shapes"][1].tolist() == list(b.shapes)
        logits = shaped(batch).tag_logits
    assert not torch.allclose(logits[0, 0], logits[1, 0])  # "aspirin" vs "Aspirin"
    assert torch.allclose(logits[0, 1], logits[1, 1])  # "inhibits" is lower case in both


def test_candidates_are_pairs_of_entity_last_words_with_gold_or_neg(tiny_bert, tiny_tokenizer):
    model = make_model(tiny_bert, tiny_tokenizer)
    example = model.encode(A, TEXT_A)
    batch = model.collate([example])
    # predicted: aspirin right (S-Drug), "cox 1" right (B/E-Gene), "." a wrong one-word Gene
    tag_ids = torch.tensor([[TAGS.index(t) for t in ["S-Drug", "O", "B-Gene", "E-Gene", "S-Gene"]]])
    candidates, labels = model._relation_targets(tag_ids, batch["word_mask"], [example])
    assert candidates[0].nonzero().tolist() == [[0, 3], [0, 4], [3, 0], [3, 4], [4, 0], [4, 3]]
    assert labels[0, 0, 3] == RELATIONS.index("Inhibit")
    assert labels[0].sum() == RELATIONS.index("Inhibit")  # every other candidate is NEG
    # "cox" alone (S-Gene) has the wrong boundary: the true relation becomes NEG ("wrong entity")
    wrong = torch.tensor([[TAGS.index(t) for t in ["S-Drug", "O", "S-Gene", "O", "O"]]])
    candidates, labels = model._relation_targets(wrong, batch["word_mask"], [example])
    assert candidates[0, 0, 2] and labels[0, 0, 2] == 0


def test_word_starts_point_at_the_first_sub_word(tiny_bert, tiny_tokenizer):
    model = make_model(tiny_bert, tiny_tokenizer)
    text = "patients binds ."
    example = model.encode(sentence(text, []), text)
    tokens = tiny_tokenizer.convert_ids_to_tokens(list(example.input_ids))
    assert [tokens[i] for i in example.word_starts] == ["patients", "binds", "."]


def test_truncation_is_counted_and_drops_no_kept_word(tiny_bert, tiny_tokenizer):
    model = make_model(tiny_bert, tiny_tokenizer)
    model.config = model.config.model_copy(update={"max_length": 8})
    example = model.encode(B, TEXT_B)
    assert len(example.word_starts) == 6 and example.truncated_words == 2
    assert [e.last for e in example.entities] == [0, 2, 4]  # the last Gene is beyond the budget
    assert example.relations == ((0, 1, RELATIONS.index("Activate")),)


@pytest.mark.parametrize("word_shape_dim", [0, 4])
def test_overfit_two_sentences_then_save_and_load_identically(
    tiny_bert, tiny_tokenizer, tmp_path, word_shape_dim
):
    torch.manual_seed(0)
    model = make_model(tiny_bert, tiny_tokenizer, word_shape_dim=word_shape_dim)
    examples = [model.encode(A, TEXT_A), model.encode(B, TEXT_B)]
    batch = model.collate(examples)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(150):
        optimizer.zero_grad()
        loss = model(batch, examples, re_weight=1.0, re_entities="gold" if step < 50 else "predicted").loss
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        output = model(batch)
    mask = batch["word_mask"]
    assert (output.tag_logits.argmax(-1)[mask] == batch["tags"][mask]).all()
    assert output.relation_logits[0, 0, 3].argmax() == RELATIONS.index("Inhibit")
    assert output.relation_logits[1, 4, 6].argmax() == RELATIONS.index("Activate")
    assert output.relation_logits[1, 0, 6].argmax() == 0
    model.save(tmp_path / "joint")
    loaded = JointModel.load(tmp_path / "joint")
    with torch.no_grad():
        again = loaded(batch)
    assert torch.equal(again.tag_logits, output.tag_logits)
    assert torch.equal(again.relation_logits, output.relation_logits)
    assert loaded.tags == TAGS and loaded.relations == RELATIONS
    assert loaded.joint.word_shape_dim == word_shape_dim
