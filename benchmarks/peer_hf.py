"""The peer recipe BLUE/BioBERT use, side by side with biorelex on the same encoder and splits.

    python benchmarks/peer_hf.py chemprot|ddi [--runs-dir DIR] [--max-train N]

``AutoModelForSequenceClassification`` on BLUE-masked sentences (``@CHEMICAL$``/``@GENE$``,
``@DRUG$``), trained by ``transformers.Trainer`` at the Hugging Face text-classification
example's defaults: lr 5e-5, 3 epochs, max length 128 with padding to max length, linear decay
without warm-up, weight decay 0, batch 32, seed 42. Scored by biorelex's own metric code
(micro-F1 over the positive classes) on the test split. Needs ``pip install -e .[bench]``.

The Trainer checkpoints every ``--save-steps`` steps into ``RUNS_DIR/peer_hf_CORPUS`` (its own
format, outside the repository; only the last is kept), and a second call resumes from the last
one, so a run stopped by the session clock is not lost. Resuming does not change the recipe; the
results then state that the wall time covers the last leg only.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, provenance, write_json  # noqa: E402

CORPORA = {"chemprot": "chemprot-blurb", "ddi": "ddi2013-blurb"}


def masked_texts(corpus: str, split: str, data_dir: str | None) -> tuple[list[str], list[str | None]]:
    from biorelex.config import DataConfig
    from biorelex.data.examples import iter_candidates
    from biorelex.data.representation import represent
    from biorelex.training.data import load_documents

    documents = load_documents(DataConfig(corpus=corpus, data_dir=data_dir), split) or []
    candidates = list(iter_candidates(documents, None))
    return [represent(c, "mask").text for c in candidates], [c.label for c in candidates]


def examples_through(step: int, n_examples: int, batch_size: int) -> int:
    """Training examples the Trainer has consumed after ``step`` optimizer steps (one example per
    row; each epoch ends with a short batch)."""
    per_epoch = -(-n_examples // batch_size)
    epochs, rest = divmod(step, per_epoch)
    return epochs * n_examples + min(rest * batch_size, n_examples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", choices=sorted(CORPORA))
    parser.add_argument("--runs-dir", type=Path, default=Path(os.environ.get("BIORELEX_RUNS", "../runs")))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-train", type=int, default=0, help="first N training pairs only (0 = all)")
    parser.add_argument("--save-steps", type=int, default=200, help="checkpoint every N steps")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from biorelex.data.examples import LabelSet
    from biorelex.evaluation.metrics import classification_scores
    from biorelex.models.encoder import resolve_encoder

    corpus = CORPORA[args.corpus]
    train_texts, train_labels = masked_texts(corpus, "train", args.data_dir)
    if args.max_train:
        train_texts, train_labels = train_texts[: args.max_train], train_labels[: args.max_train]
    test_texts, test_labels = masked_texts(corpus, "test", args.data_dir)
    labels = LabelSet.from_labels(train_labels)
    location = resolve_encoder(None)
    tokenizer = AutoTokenizer.from_pretrained(location)
    model = AutoModelForSequenceClassification.from_pretrained(location, num_labels=len(labels.labels))

    class Pairs(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __init__(self, texts: list[str], gold: list[str | None]) -> None:
            self.encoding = tokenizer(texts, truncation=True, max_length=128, padding="max_length")
            self.labels = [labels.index(g) for g in gold]

        def __len__(self) -> int:
            return len(self.labels)

        def __getitem__(self, index: int) -> dict[str, Any]:
            item = {k: torch.tensor(v[index]) for k, v in self.encoding.items()}
            item["labels"] = torch.tensor(self.labels[index])
            return item

    output = args.runs_dir / f"peer_hf_{args.corpus}"
    training_args = TrainingArguments(
        output_dir=str(output),
        learning_rate=5e-5,
        num_train_epochs=3,
        per_device_train_batch_size=32,
        per_device_eval_batch_size=64,
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        seed=42,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=1,
        report_to=[],
        logging_steps=100,
    )
    train_set, test_set = Pairs(train_texts, train_labels), Pairs(test_texts, test_labels)
    trainer = Trainer(model=model, args=training_args, train_dataset=train_set)
    steps = {int(p.name.removeprefix("checkpoint-")): p for p in output.glob("checkpoint-*")}
    first_step = max(steps, default=0)
    resumed_from = str(steps[first_step]) if steps else None
    if resumed_from:
        logging.info("resuming the peer recipe from %s", resumed_from)
    started = time.perf_counter()
    metrics = trainer.train(resume_from_checkpoint=resumed_from).metrics
    train_seconds = time.perf_counter() - started
    batch = training_args.train_batch_size  # per device x devices: one optimizer step
    leg_examples = examples_through(trainer.state.global_step, len(train_texts), batch) - examples_through(
        first_step, len(train_texts), batch
    )
    predicted = trainer.predict(test_set)
    logits = np.asarray(predicted.predictions)
    exp = np.exp(logits - logits.max(1, keepdims=True))
    probabilities = exp / exp.sum(1, keepdims=True)
    scores = classification_scores(
        test_set.labels, logits.argmax(1).tolist(), labels.labels, labels.positive, probabilities
    )
    scores.pop("confusion")
    result = {
        "run": f"peer_hf_{args.corpus}",
        **provenance(
            f"python benchmarks/peer_hf.py {args.corpus}"
            + (f" --max-train {args.max_train}" if args.max_train else "")
        ),
        "recipe": "AutoModelForSequenceClassification + Trainer, lr 5e-5, 3 epochs, max_length 128 "
        "(padded), batch 32, linear decay, no warm-up, seed 42, BLUE masks",
        "setting": {
            "entities": "gold",
            "corpus": corpus,
            "split": "test",
            "encoder": "embedded:all-MiniLM-L6-v2",
        },
        "train_pairs": len(train_texts),
        "resumed_from": resumed_from,
        "train_steps_this_leg": trainer.state.global_step - first_step,
        "train_examples_this_leg": leg_examples,
        "train_examples_per_s": round(leg_examples / train_seconds, 2),
        "seconds_training": round(train_seconds, 1),
        "timing_covers": "the last leg only (checkpoint load and saves included)"
        if resumed_from
        else "the whole run",
        "trainer_metrics": metrics,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "test": scores,
    }
    (BENCH_DIR / "results").mkdir(exist_ok=True)
    write_json(BENCH_DIR / "results" / f"classify_peer_hf_{args.corpus}.json", result)
    logging.info("peer recipe %s: test micro-F1 %.4f", args.corpus, scores["micro_f1"])


if __name__ == "__main__":
    main()
