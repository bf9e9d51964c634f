"""Continued MLM pre-training with the tiny encoder: loss decreases, tied head saved, resume, reuse."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biorelex.cli import app
from biorelex.errors import ConfigError
from biorelex.training.pretrain import PretrainConfig, interpolate_encoders, pack, pretrain, rate_factors

runner = CliRunner()
SENTENCES = [
    "aspirin inhibits the cox in cells .",
    "caffeine activates the receptor .",
    "ibuprofen binds protein .",
]


def write_text(path, n=400):
    path.write_text("\n".join(SENTENCES[i % 3] for i in range(n)) + "\n", encoding="utf-8")
    return path


def test_pack_builds_full_blocks_with_word_ids(tiny_tokenizer):
    blocks = list(pack(tiny_tokenizer, iter(SENTENCES * 4), 16))
    assert blocks and all(len(ids) == 16 == len(words) for ids, words in blocks)
    ids, words = blocks[0]
    assert ids[0] == tiny_tokenizer.cls_token_id and ids[-1] == tiny_tokenizer.sep_token_id
    assert words[0] == -1 and max(words) > 0


def test_rate_factors_warm_up_hold_then_decay_to_zero():
    config = PretrainConfig(head_warmup_steps=2, warmup_steps=4, steps=20, decay_from=10)
    encoder, head = rate_factors(config)
    assert [encoder(s) for s in (0, 1)] == [0.0, 0.0]  # head alone
    assert [encoder(s) for s in (2, 3, 5, 9)] == [0.25, 0.5, 1.0, 1.0]
    assert [encoder(s) for s in (10, 15, 19, 20)] == [1.0, 0.5, 0.1, 0.0]
    assert [head(s) for s in (0, 9, 15, 20)] == [1.0, 1.0, 0.5, 0.0]
    constant, _ = rate_factors(PretrainConfig(warmup_steps=4, steps=20))
    assert constant(19) == 1.0  # no decay_from: constant after the warm-up, so runs extend
    with pytest.raises(ConfigError, match="decay_from = 20"):
        rate_factors(PretrainConfig(steps=20, decay_from=20))


def test_mlm_loss_decreases_head_is_tied_and_output_loads(tiny_encoder_dir, tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    text = write_text(tmp_path / "text.txt")
    config = PretrainConfig(
        encoder=str(tiny_encoder_dir),
        texts=[str(text)],
        max_length=32,
        batch_size=8,
        lr=5e-3,
        warmup_steps=5,
        steps=40,
        heldout_lines=30,
        eval_every=20,
        save_every=20,
    )
    summary = pretrain(config, tmp_path / "out")
    losses = [h["heldout_loss"] for h in summary["history"]]
    assert losses[-1] < losses[0] - 0.5, losses
    assert summary["steps"] == 40 and summary["tokens"] == 40 * 8 * 32
    encoder = tmp_path / "out" / "encoder"
    mlm = AutoModelForMaskedLM.from_pretrained(encoder)
    assert mlm.get_output_embeddings().weight.data_ptr() == mlm.get_input_embeddings().weight.data_ptr()
    assert AutoModel.from_pretrained(encoder).config.hidden_size == 32
    assert (tmp_path / "out" / "pretrain_curve.png").stat().st_size > 0
    # the output folder is an encoder every command accepts
    from biorelex.models.encoder import load_encoder

    model, _ = load_encoder(str(tmp_path / "out"))
    assert model.config.num_hidden_layers == 2


def test_resume_extends_a_run_and_refuses_to_overwrite(tiny_encoder_dir, tiny_tokenizer, tmp_path):
    text = write_text(tmp_path / "text.txt")
    common = ["--text", str(text), "-o", str(tmp_path / "out"), "--encoder", str(tiny_encoder_dir)]
    common += ["--batch-size", "4", "--max-length", "16", "--heldout-lines", "10", "--save-every", "3"]
    first = runner.invoke(app, ["pretrain", *common, "--steps", "6"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["pretrain", *common, "--steps", "6"])
    assert again.exit_code == 2 and "--resume" in again.output
    more = runner.invoke(app, ["pretrain", *common, "--steps", "10", "--resume"])
    assert more.exit_code == 0, more.output
    summary = json.loads((tmp_path / "out" / "encoder" / "pretrain.json").read_text())
    assert summary["steps"] == 10 and summary["tokens"] == 10 * 4 * 16
    # the resumed run went on from its position in the text, not from the start of a pass
    from biorelex.training.pretrain import read_lines

    lines = list(read_lines([text]))[10:]
    per_pass = len(list(pack(tiny_tokenizer, iter(lines), 16)))
    state = json.loads((tmp_path / "out" / "checkpoint" / "state.json").read_text())
    assert state["passes"] * per_pass + state["pass_blocks"] == 10 * 4


def test_missing_text_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such text file"):
        pretrain(PretrainConfig(texts=[str(tmp_path / "none.txt")]), tmp_path / "out")


def test_head_warmup_trains_the_head_alone_then_the_encoder(tiny_encoder_dir, tmp_path):
    import torch
    from transformers import AutoModel

    text = write_text(tmp_path / "text.txt")
    common = ["--text", str(text), "-o", str(tmp_path / "out"), "--encoder", str(tiny_encoder_dir)]
    common += ["--batch-size", "4", "--max-length", "16", "--heldout-lines", "10", "--save-every", "2"]
    common += ["--head-warmup-steps", "4", "--warmup-steps", "2", "--lr", "1e-2"]
    done = runner.invoke(app, ["pretrain", *common, "--steps", "3"])  # stops inside the head phase
    assert done.exit_code == 0, done.output
    original = AutoModel.from_pretrained(tiny_encoder_dir).state_dict()
    after_head = AutoModel.from_pretrained(tmp_path / "out" / "encoder").state_dict()
    for name, value in original.items():
        if not name.startswith("pooler."):
            assert torch.equal(after_head[name], value), f"{name} moved while the encoder was frozen"
    done = runner.invoke(app, ["pretrain", *common, "--steps", "7", "--resume"])
    assert done.exit_code == 0, done.output
    adapted = AutoModel.from_pretrained(tmp_path / "out" / "encoder").state_dict()
    assert not torch.equal(
        adapted["encoder.layer.0.attention.self.query.weight"],
        original["encoder.layer.0.attention.self.query.weight"],
    )
    phases = [
        json.loads(line)["phase"] for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    ]
    assert phases == ["head"] * 4 + ["all"] * 3


def test_masked_positions_only_loss_equals_the_full_model_loss(tiny_encoder_dir, tiny_tokenizer):
    import torch
    from transformers import AutoModelForMaskedLM

    from biorelex.training.pretrain import mask_tokens, mlm_loss, prediction_head

    model = AutoModelForMaskedLM.from_pretrained(tiny_encoder_dir).eval()
    head = prediction_head(model)
    assert head is model.cls
    ids, words = (
        torch.tensor(x) for x in zip(*list(pack(tiny_tokenizer, iter(SENTENCES * 8), 16)), strict=True)
    )
    masked, labels = mask_tokens(ids, words, tiny_tokenizer, 0.3, False, torch.Generator().manual_seed(0))
    assert (labels != -100).any()
    with torch.no_grad():
        full = model(input_ids=masked, labels=labels).loss
        assert float(mlm_loss(model, head, masked, labels)) == pytest.approx(float(full), abs=1e-5)
        assert float(mlm_loss(model, None, masked, labels)) == pytest.approx(float(full), abs=1e-6)


def test_interpolation_is_the_weighted_mean_of_every_weight(tiny_encoder_dir, tiny_tokenizer, tmp_path):
    import torch
    from transformers import AutoModel

    from biorelex.models.encoder import load_encoder

    original = AutoModel.from_pretrained(tiny_encoder_dir)  # with its pooler, saved as the original
    original.save_pretrained(tmp_path / "original")
    tiny_tokenizer.save_pretrained(tmp_path / "original")
    shifted = AutoModel.from_pretrained(tmp_path / "original")
    with torch.no_grad():
        for parameter in shifted.parameters():
            parameter.add_(1.0)
    shifted.save_pretrained(tmp_path / "adapted")
    tiny_tokenizer.save_pretrained(tmp_path / "adapted")
    result = runner.invoke(
        app,
        [
            "interpolate",
            str(tmp_path / "adapted"),
            "--original",
            str(tmp_path / "original"),
            "--weight",
            "0.25",
            "-o",
            str(tmp_path / "mixed"),
        ],
    )
    assert result.exit_code == 0, result.output
    mixed, _ = load_encoder(str(tmp_path / "mixed"))  # a normal encoder folder
    reference = dict(original.named_parameters())
    for name, value in mixed.named_parameters():
        assert torch.allclose(value, reference[name] + 0.25), name
    summary = json.loads((tmp_path / "mixed" / "encoder" / "interpolate.json").read_text())
    assert summary["weight"] == 0.25 and summary["adapted"] == str(tmp_path / "adapted")
    same = interpolate_encoders(str(tmp_path / "original"), tmp_path / "adapted", 0.0, tmp_path / "zero")
    assert same["weight"] == 0.0
    zero, _ = load_encoder(str(tmp_path / "zero"))
    assert all(torch.equal(v, reference[n]) for n, v in zero.named_parameters())


def test_interpolation_refuses_another_vocabulary_or_architecture(tiny_encoder_dir, tmp_path):
    from transformers import AutoModel, BertConfig, BertModel, BertTokenizerFast

    other = BertTokenizerFast(
        vocab={t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"])}
    )
    AutoModel.from_pretrained(tiny_encoder_dir).save_pretrained(tmp_path / "vocab")
    other.save_pretrained(tmp_path / "vocab")
    with pytest.raises(ConfigError, match="another vocabulary"):
        interpolate_encoders(str(tiny_encoder_dir), tmp_path / "vocab", 0.5, tmp_path / "out")
    config = BertConfig.from_pretrained(tiny_encoder_dir)
    config.num_hidden_layers = 1
    BertModel(config).save_pretrained(tmp_path / "small")
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(tiny_encoder_dir).save_pretrained(tmp_path / "small")
    with pytest.raises(ConfigError, match="not the same architecture"):
        interpolate_encoders(str(tiny_encoder_dir), tmp_path / "small", 0.5, tmp_path / "out")
    with pytest.raises(ConfigError, match="outside 0..1"):
        interpolate_encoders(str(tiny_encoder_dir), tmp_path / "small", 1.5, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_interpolation_takes_what_a_pretrain_output_lacks_from_the_original(
    tiny_encoder_dir, tiny_tokenizer, tmp_path
):
    import torch
    from transformers import AutoModel, AutoModelForMaskedLM

    from biorelex.models.encoder import load_encoder

    original = AutoModel.from_pretrained(tiny_encoder_dir)
    original.save_pretrained(tmp_path / "original")
    tiny_tokenizer.save_pretrained(tmp_path / "original")
    mlm = AutoModelForMaskedLM.from_pretrained(tmp_path / "original")  # as `pretrain` saves: no pooler
    with torch.no_grad():
        for parameter in mlm.bert.parameters():
            parameter.add_(1.0)
    mlm.save_pretrained(tmp_path / "adapted" / "encoder")
    tiny_tokenizer.save_pretrained(tmp_path / "adapted" / "encoder")
    summary = interpolate_encoders(str(tmp_path / "original"), tmp_path / "adapted", 0.5, tmp_path / "mixed")
    assert summary["from_original_only"] == ["pooler.dense.bias", "pooler.dense.weight"]
    mixed, _ = load_encoder(str(tmp_path / "mixed"))
    reference = dict(original.named_parameters())
    for name, value in mixed.named_parameters():
        shift = 0.0 if name.startswith("pooler.") else 0.5
        assert torch.allclose(value, reference[name] + shift), name
