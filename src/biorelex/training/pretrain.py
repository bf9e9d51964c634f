"""Continued masked-language-model pre-training of any encoder on plain text (domain adaptation).

Text files (one document or sentence per line; ``.gz`` read as gzip) are tokenised with the
encoder's own tokenizer (its vocabulary is kept, so every downstream model stays compatible),
packed into blocks of ``max_length`` sub-words (``[CLS] ... [SEP]``, lines joined by ``[SEP]``)
and masked dynamically in each batch (15%: 80% [MASK], 10% random, 10% kept), optionally whole
words at a time. A checkpoint without an MLM head (all-MiniLM-L6-v2) gets one created by
``AutoModelForMaskedLM`` with its decoder tied to the input embeddings. Such a fresh head starts
random (held-out loss above uniform guessing), and its gradients would shake the encoder it is
meant to adapt: ``head_warmup_steps`` first trains the head alone (encoder frozen, ``head_lr``),
then the encoder joins with its own linear warm-up (``warmup_steps``) at ``lr``; the head keeps
``head_lr``. The first
``heldout_lines`` lines are held out for the MLM loss / perplexity and never trained on.

Checkpoints every ``save_every`` steps in ``OUT/checkpoint`` (atomically: weights, optimizer and
position in the text stream), so ``resume=True`` continues an interrupted run, or extends a
finished one to a larger ``steps`` budget (learning rate: linear warm-up, then constant, so
chunks of pre-training across sessions follow one schedule). ``decay_from`` ends a run with a
linear decay of every rate to 0 between that step and ``steps`` (set it in the last chunk). The
output folder is a normal encoder directory (``config.json``, weights, tokenizer) that
``model.encoder`` accepts.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from biorelex.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass
class PretrainConfig:
    """Settings of :func:`pretrain` (``biorelex pretrain`` options)."""

    encoder: str | None = None
    texts: list[str] = field(default_factory=list)
    max_length: int = 128
    batch_size: int = 32
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_steps: int = 100
    head_warmup_steps: int = 0
    head_lr: float = 1e-3
    steps: int = 1000
    decay_from: int | None = None
    mask_probability: float = 0.15
    whole_word: bool = True
    heldout_lines: int = 500
    eval_every: int = 200
    save_every: int = 200
    seed: int = 13


def rate_factors(config: PretrainConfig) -> tuple[Callable[[int], float], Callable[[int], float]]:
    """Multipliers of ``lr`` (encoder) and ``head_lr`` (MLM head) at each optimizer step.

    The encoder is frozen for ``head_warmup_steps``, then warms up linearly over ``warmup_steps``;
    the head trains at full rate from the start when it has a warm-up of its own, else it follows
    the encoder. From ``decay_from`` both decay linearly to 0 at ``steps``.
    """
    if config.decay_from is not None and not 0 <= config.decay_from < config.steps:
        raise ConfigError(f"decay_from = {config.decay_from}: must be a step in [0, steps = {config.steps})")

    def decay(step: int) -> float:
        if config.decay_from is None or step < config.decay_from:
            return 1.0
        return max(0.0, (config.steps - step) / (config.steps - config.decay_from))

    def encoder_factor(step: int) -> float:
        if step < config.head_warmup_steps:
            return 0.0
        warm = min(1.0, (step - config.head_warmup_steps + 1) / max(config.warmup_steps, 1))
        return warm * decay(step)

    def head_factor(step: int) -> float:
        return decay(step) if config.head_warmup_steps else encoder_factor(step)

    return encoder_factor, head_factor


def read_lines(paths: Sequence[str | Path]) -> Iterator[str]:
    """Non-blank lines of every file (gzip when the name ends in ``.gz``)."""
    for path in map(Path, paths):
        if not path.exists():
            raise ConfigError(f"{path}: no such text file")
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield line.strip()


def pack(tokenizer: Any, lines: Iterator[str], max_length: int) -> Iterator[tuple[list[int], list[int]]]:
    """Blocks of ``(input_ids, word_ids)``: ``[CLS]`` + up to ``max_length - 2`` sub-words + ``[SEP]``;
    lines are joined by ``[SEP]``; ``word_ids`` number words across the block (-1 for specials)."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    room = max_length - 2
    ids: list[int] = []
    words: list[int] = []
    next_word = 0
    for line in lines:
        encoded = tokenizer(line, add_special_tokens=False)
        word_ids = encoded.word_ids()
        ids.extend(encoded["input_ids"])
        words.extend(-1 if w is None else next_word + w for w in word_ids)
        next_word += 1 + max((w for w in word_ids if w is not None), default=-1)
        ids.append(sep)
        words.append(-1)
        while len(ids) >= room:
            yield [cls, *ids[:room], sep], [-1, *words[:room], -1]
            ids, words = ids[room:], words[room:]


def mask_tokens(
    input_ids: Any, word_ids: Any, tokenizer: Any, probability: float, whole_word: bool, generator: Any
) -> tuple[Any, Any]:
    """Dynamic MLM masking of a ``(batch, seq)`` block: ``(masked input_ids, labels)``, labels -100
    where nothing is predicted."""
    import torch

    special = word_ids < 0  # (batch, seq)
    if whole_word:
        # draw per word, then spread to every sub-word of the word
        max_word = int(word_ids.max().item()) + 1 if word_ids.numel() else 1
        chosen_words = torch.rand((input_ids.shape[0], max_word), generator=generator) < probability
        chosen = torch.gather(chosen_words, 1, word_ids.clamp(min=0)) & ~special
    else:
        chosen = (torch.rand(input_ids.shape, generator=generator) < probability) & ~special
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    masked = input_ids.clone()
    roll = torch.rand(input_ids.shape, generator=generator)
    masked[chosen & (roll < 0.8)] = tokenizer.mask_token_id
    random_positions = chosen & (roll >= 0.8) & (roll < 0.9)
    masked[random_positions] = torch.randint(
        len(tokenizer), (int(random_positions.sum()),), generator=generator
    )
    return masked, labels


def prediction_head(model: Any) -> Any:
    """The MLM head of a ``*ForMaskedLM`` model when it is one module beside the encoder (BERT's
    ``cls``, RoBERTa's ``lm_head``), else ``None``."""
    base = model.base_model
    heads = [m for _, m in model.named_children() if m is not base and any(True for _ in m.parameters())]
    return heads[0] if len(heads) == 1 else None


def mlm_loss(model: Any, head: Any, input_ids: Any, labels: Any) -> Any:
    """The MLM cross-entropy (mean over predicted positions), scoring only the masked positions
    when the head is known: the vocabulary projection costs as much as the whole MiniLM encoder
    per token, and 85% of the tokens are not predicted. Equal to ``model(..., labels=...).loss``."""
    import torch

    if head is None:
        return model(input_ids=input_ids, labels=labels).loss
    hidden = model.base_model(input_ids=input_ids).last_hidden_state
    chosen = labels != -100
    if not bool(chosen.any()):
        return hidden.sum() * 0.0
    logits = head(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits.float(), labels[chosen])


def fertility(tokenizer: Any, lines: Sequence[str]) -> float:
    """Sub-words per whitespace word of ``lines``."""
    words = sum(len(line.split()) for line in lines)
    pieces = sum(len(tokenizer(line, add_special_tokens=False)["input_ids"]) for line in lines)
    return pieces / max(words, 1)


def pretrain(config: PretrainConfig, output: str | Path, resume: bool = False) -> dict[str, Any]:
    """Continue MLM pre-training of ``config.encoder`` on ``config.texts``; returns the summary
    also written to ``OUT/pretrain.json`` (tokens, steps, held-out loss and perplexity, fertility)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from biorelex.models.encoder import resolve_encoder
    from biorelex.models.serialization import atomic_directory, load_optimizer, read_json, save_optimizer

    if not config.texts:
        raise ConfigError("pretrain needs at least one text file (--text)")
    encoder_factor, head_factor = rate_factors(config)  # checks decay_from before any loading
    output = Path(output)
    checkpoint = output / "checkpoint"
    state: dict[str, Any] = {"step": 0, "tokens": 0, "passes": 0, "pass_blocks": 0, "history": []}
    source = resolve_encoder(config.encoder)
    if resume and (checkpoint / "state.json").exists():
        state = read_json(checkpoint / "state.json")
        source = str(checkpoint / "model")
        logger.info("resuming at step %d (%d tokens seen)", state["step"], state["tokens"])
    elif (checkpoint / "state.json").exists():
        raise ConfigError(f"{output} holds a pre-training checkpoint: pass --resume, or choose another -o")
    torch.manual_seed(config.seed + state["step"])
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.mask_token_id is None or tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ConfigError(f"{config.encoder}: the tokenizer has no [MASK]/[CLS]/[SEP] token; MLM needs them")
    model = AutoModelForMaskedLM.from_pretrained(source)
    model.tie_weights()
    head = prediction_head(model)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)

    lines = read_lines(config.texts)
    heldout = [line for _, line in zip(range(config.heldout_lines), lines, strict=False)]
    if not heldout:
        raise ConfigError("the text files are empty")
    heldout_blocks = list(pack(tokenizer, iter(heldout), config.max_length))
    if not heldout_blocks:
        raise ConfigError(
            f"the {len(heldout)} held-out lines fill no {config.max_length}-token block; raise --heldout-lines"
        )

    def training_blocks() -> Iterator[list[list[int]]]:
        """Blocks after the held-out lines, passing over the text again when it runs out."""
        skip = state["pass_blocks"]  # resume inside the current pass
        while True:
            stream = read_lines(config.texts)
            for _ in range(len(heldout)):
                next(stream, None)
            produced = False
            for index, block in enumerate(pack(tokenizer, stream, config.max_length)):
                produced = True
                if index >= skip:
                    yield list(block)
            if not produced:
                raise ConfigError("no training text is left after the held-out lines; lower --heldout-lines")
            skip = 0
            state["passes"] += 1
            state["pass_blocks"] = 0
            logger.info("pass %d over the text done", state["passes"])

    blocks = training_blocks()

    encoder_ids = {id(p) for p in model.base_model.parameters()}  # the tied decoder weight included
    head_params = [p for p in model.parameters() if id(p) not in encoder_ids]
    encoder_params = list(model.base_model.parameters())
    decay = [p for p in encoder_params if p.ndim > 1]
    no_decay = [p for p in encoder_params if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
            {"params": head_params, "weight_decay": config.weight_decay, "lr": config.head_lr},
        ],
        lr=config.lr,
    )

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [encoder_factor, encoder_factor, head_factor])
    if resume and (checkpoint / "optimizer.safetensors").exists():
        load_optimizer(optimizer, checkpoint)
        scheduler.last_epoch = state["step"]
    generator = torch.Generator().manual_seed(config.seed + state["step"])
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[dict[str, Any]] = state["history"]

    def evaluate() -> float:
        model.eval()
        eval_generator = torch.Generator().manual_seed(config.seed)  # the same masks every time
        total, count = 0.0, 0
        with torch.inference_mode():
            for i in range(0, len(heldout_blocks), config.batch_size):
                ids, words = (
                    torch.tensor(x) for x in zip(*heldout_blocks[i : i + config.batch_size], strict=True)
                )
                masked, labels = mask_tokens(
                    ids, words, tokenizer, config.mask_probability, False, eval_generator
                )
                n = int((labels != -100).sum())
                if n:
                    loss = mlm_loss(model, head, masked.to(device), labels.to(device))
                    total, count = total + float(loss) * n, count + n
        model.train()
        return total / max(count, 1)

    def save() -> None:
        with atomic_directory(checkpoint) as temporary:
            model.save_pretrained(temporary / "model")
            tokenizer.save_pretrained(temporary / "model")
            save_optimizer(optimizer, temporary)
            (temporary / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")

    output.mkdir(parents=True, exist_ok=True)
    metrics = (output / "metrics.jsonl").open("a", encoding="utf-8")
    if not history:
        loss = evaluate()
        history.append({"step": 0, "tokens": 0, "heldout_loss": loss, "perplexity": math.exp(loss)})
    model.train()
    started, tokens_at_start = time.perf_counter(), state["tokens"]
    bar = tqdm(total=config.steps, initial=state["step"], desc="pretrain", unit="step")
    while state["step"] < config.steps:
        frozen = state["step"] < config.head_warmup_steps
        for parameter in encoder_params:
            parameter.requires_grad_(not frozen)
        batch = [next(blocks) for _ in range(config.batch_size)]  # never runs out: passes repeat
        state["pass_blocks"] += len(batch)
        ids, words = (torch.tensor(x) for x in zip(*batch, strict=True))
        masked, labels = mask_tokens(
            ids, words, tokenizer, config.mask_probability, config.whole_word, generator
        )
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            loss = mlm_loss(model, head, masked.to(device), labels.to(device))
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        state["step"] += 1
        state["tokens"] += int(ids.numel())
        rate = (state["tokens"] - tokens_at_start) / max(time.perf_counter() - started, 1e-9)
        bar.set_postfix(loss=f"{loss.item():.3f}", tok_s=f"{rate:.0f}")
        bar.update(1)
        record: dict[str, Any] = {
            "step": state["step"],
            "tokens": state["tokens"],
            "loss": loss.item(),
            "tokens_per_s": rate,
            "phase": "head" if frozen else "all",
        }
        if state["step"] % config.eval_every == 0 or state["step"] == config.steps:
            heldout_loss = evaluate()
            record.update(heldout_loss=heldout_loss, perplexity=math.exp(heldout_loss))
            history.append({k: record[k] for k in ("step", "tokens", "heldout_loss", "perplexity")})
            logger.info(
                "step %d: held-out MLM loss %.4f, perplexity %.2f",
                state["step"],
                heldout_loss,
                math.exp(heldout_loss),
            )
        metrics.write(json.dumps(record) + "\n")
        if state["step"] % config.save_every == 0 or state["step"] == config.steps:
            metrics.flush()
            save()
    bar.close()
    metrics.close()
    save()
    summary = {
        "encoder": config.encoder,
        "config": asdict(config),
        "steps": state["step"],
        "tokens": state["tokens"],
        "passes_over_text": state["passes"],
        "history": history,
        "vocabulary": "kept (the encoder's own tokenizer, unchanged)",
        "fertility_heldout": round(fertility(tokenizer, heldout), 4),
        "seconds_this_run": round(time.perf_counter() - started, 1),
    }
    with atomic_directory(output / "encoder") as temporary:
        model.save_pretrained(temporary)
        tokenizer.save_pretrained(temporary)
        (temporary / "pretrain.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    _plot(history, output / "pretrain_curve.png")
    return summary


def _plot(history: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biorelex.evaluation.metrics import save_figure

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot([h["tokens"] for h in history], [h["heldout_loss"] for h in history], marker="o")
    axis.set_xlabel("pre-training tokens")
    axis.set_ylabel("held-out MLM loss")
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def interpolate_encoders(
    original: str | None, adapted: str | Path, weight: float, output: str | Path
) -> dict[str, Any]:
    """Write the encoder ``(1 - weight) * original + weight * adapted`` to ``OUT/encoder``.

    A weight-space interpolation between an encoder and its domain-adapted version (as WiSE-FT,
    Wortsman et al. 2022, does between a model and its fine-tuned copy): it keeps part of what
    the original learned (for all-MiniLM-L6-v2, its sentence-embedding training) while taking
    part of the adaptation. Both must share the architecture and the vocabulary; the original
    tokenizer is written. Integer buffers (position ids) and the weights the adapted checkpoint
    lacks (a ``pretrain`` output has no pooler) come from the original, and the adapted encoder's
    MLM head is not kept (``pretrain --encoder OUT`` ties a new one). ``weight`` 0 is the
    original, 1 the adapted encoder.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from biorelex.models.encoder import load_encoder, resolve_encoder
    from biorelex.models.serialization import atomic_directory

    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"--weight {weight} is outside 0..1 (0 = the original, 1 = the adapted encoder)")
    base, tokenizer = load_encoder(original)
    folder = Path(resolve_encoder(str(adapted)))
    try:  # the adapted weights are loaded once, below, with the loading report
        other_tokenizer = AutoTokenizer.from_pretrained(folder)
        other, loading = AutoModel.from_pretrained(folder, output_loading_info=True)
    except OSError as exc:
        raise ConfigError(f"cannot load the adapted encoder {adapted}: {exc}") from None
    if tokenizer.get_vocab() != other_tokenizer.get_vocab():
        raise ConfigError(
            f"{adapted} has another vocabulary than {original or 'the embedded encoder'}; "
            "only an encoder adapted from the original (same tokenizer) can be interpolated with it"
        )
    # A pretrain output is saved with its MLM head and without the pooler: what the adapted
    # checkpoint lacks was initialised at random on loading, so it is taken from the original.
    absent = set(loading["missing_keys"])
    theirs = other.state_dict()
    mine = base.state_dict()
    if set(mine) != set(theirs):
        differing = sorted(set(mine) ^ set(theirs))
        raise ConfigError(
            f"{adapted} and the original differ in parameters (first: {differing[0]}): not the same architecture"
        )
    merged = {}
    for name, value in mine.items():
        if value.shape != theirs[name].shape:
            raise ConfigError(
                f"parameter {name} is {tuple(value.shape)} in the original and "
                f"{tuple(theirs[name].shape)} in {adapted}: not the same architecture"
            )
        if torch.is_floating_point(value) and name not in absent:
            merged[name] = torch.lerp(value, theirs[name].to(value.dtype), weight)
        else:
            merged[name] = value
    base.load_state_dict(merged)
    summary: dict[str, Any] = {
        "original": original,
        "adapted": str(adapted),
        "weight": weight,
        "rule": "(1 - weight) * original + weight * adapted, every floating-point tensor",
        "from_original_only": sorted(absent),
        "vocabulary": "kept (the original tokenizer, identical in both)",
    }
    if (folder / "pretrain.json").exists():
        pretrained = json.loads((folder / "pretrain.json").read_text(encoding="utf-8"))
        summary["adapted_pretrain_tokens"] = pretrained.get("tokens")
    output = Path(output)
    with atomic_directory(output / "encoder") as temporary:
        base.save_pretrained(temporary)
        tokenizer.save_pretrained(temporary)
        (temporary / "interpolate.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    logger.info("interpolated encoder (weight %.2f on %s) written to %s", weight, adapted, output / "encoder")
    return summary
