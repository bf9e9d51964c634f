"""The classical baseline: a linear SVM on n-gram and entity-context features (scikit-learn).

Features of a pair (hashed, so the model is a weight matrix and nothing else):
- word 1-3-grams of the represented sentence (BLUE masks by default, so the arguments read
  ``@CHEMICAL$`` and ``@GENE$``),
- words *between* the two arguments (prefixed ``B:``), the two words before the first and after
  the second (``L:``/``R:``), the number of words between them (bucketed), and the type pair.

Saved as ``svm.safetensors`` (coefficients, intercepts) + ``biorelex.json``; never pickled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biorelex.data.candidates import Candidate
from biorelex.data.encoding import EncodedPair
from biorelex.data.examples import EncodingStats, LabelSet, PairExample
from biorelex.data.representation import Mode, represent
from biorelex.errors import ConfigError

WORD = re.compile(r"[@#]?\w+\$?|[^\w\s]")
N_FEATURES = 2**18
EMPTY = EncodedPair((), (0, 0), (0, 0))


def pair_features(example: PairExample) -> str:
    """The feature document of one pair: n-gram text plus prefixed context tokens."""
    text = example.represented.text
    head, tail = example.represented.head, example.represented.tail
    first, second = sorted((head, tail))
    between = WORD.findall(text[first[1] : second[0]])
    left = WORD.findall(text[: first[0]])[-2:]
    right = WORD.findall(text[second[1] :])[:2]
    distance = len(between)
    bucket = (
        str(distance) if distance < 5 else "5-9" if distance < 10 else "10-19" if distance < 20 else "20+"
    )
    candidate = example.candidate
    context = [f"B:{w.lower()}" for w in between]
    context += [f"L:{w.lower()}" for w in left] + [f"R:{w.lower()}" for w in right]
    context += [f"D:{bucket}", f"T:{candidate.head.type}>{candidate.tail.type}"]
    return " ".join(WORD.findall(text.lower())) + " ||| " + " ".join(context)


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    def analyse(document: str) -> list[str]:
        words, context = document.split(" ||| ", 1)
        tokens = words.split()
        grams = [" ".join(tokens[i : i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)]
        return grams + context.split()

    return HashingVectorizer(
        analyzer=analyse, n_features=N_FEATURES, alternate_sign=False, norm="l2", dtype=np.float32
    )


class SvmClassifier:
    """A linear SVM (one-vs-rest, balanced class weights) behind the pair-classifier protocol."""

    def __init__(self, labels: LabelSet, representation: Mode = "mask", c: float = 0.5) -> None:
        self.labels = labels
        self.representation = representation
        self.c = c
        self.coef: np.ndarray | None = None  # (classes, features) or (1, features) when binary
        self.intercept: np.ndarray | None = None

    def encode(
        self, candidates: Iterable[Candidate], stats: EncodingStats | None = None
    ) -> list[PairExample]:
        examples = []
        for candidate in candidates:
            label = self.labels.index(candidate.label) if candidate.label is not None else 0
            examples.append(PairExample(candidate, represent(candidate, self.representation), EMPTY, label))
            if stats is not None:
                stats.pairs += 1
                stats.labels[candidate.label or self.labels.labels[0]] += 1
        return examples

    def fit(self, examples: Sequence[PairExample]) -> SvmClassifier:
        from sklearn.svm import LinearSVC

        features = _vectorizer().transform([pair_features(e) for e in examples])
        targets = np.array([e.label for e in examples])
        if len(set(targets.tolist())) < 2:
            raise ConfigError("the SVM needs at least two classes among the training pairs")
        svm = LinearSVC(C=self.c, class_weight="balanced", max_iter=5000, random_state=0)
        svm.fit(features, targets)
        coef = np.asarray(svm.coef_, dtype=np.float32)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        if coef.shape[0] == 1:  # binary: sklearn keeps one row for class classes_[1]
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        full = np.zeros((len(self.labels.labels), N_FEATURES), dtype=np.float32)
        bias = np.full(len(self.labels.labels), -1e4, dtype=np.float32)  # classes never seen stay unpredicted
        full[svm.classes_] = coef
        bias[svm.classes_] = intercept
        self.coef, self.intercept = full, bias
        return self

    def decision_function(self, examples: Sequence[PairExample]) -> np.ndarray:
        if self.coef is None or self.intercept is None:
            raise ConfigError("the SVM is not trained")
        features = _vectorizer().transform([pair_features(e) for e in examples])
        return np.asarray(features @ self.coef.T) + self.intercept  # (pairs, classes)

    def predict_proba(self, examples: Sequence[PairExample], batch_size: int = 64) -> np.ndarray:
        """Softmax of the decision values: normalised scores (not calibrated probabilities)."""
        if not examples:
            return np.zeros((0, len(self.labels.labels)), dtype=np.float32)
        scores = self.decision_function(examples)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return (scores / scores.sum(axis=1, keepdims=True)).astype(np.float32)

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> None:
        from safetensors.numpy import save_file

        from biorelex.models.serialization import atomic_directory, write_json

        if self.coef is None or self.intercept is None:
            raise ConfigError("the SVM is not trained")
        with atomic_directory(directory) as temporary:
            save_file({"coef": self.coef, "intercept": self.intercept}, str(temporary / "svm.safetensors"))
            write_json(
                temporary / "biorelex.json",
                {
                    "format_version": 1,
                    "kind": "svm",
                    "labels": self.labels.to_dict(),
                    "representation": self.representation,
                    "c": self.c,
                    "n_features": N_FEATURES,
                    **(extra or {}),
                },
            )

    @classmethod
    def load(cls, directory: str | Path) -> SvmClassifier:
        from safetensors.numpy import load_file

        from biorelex.models.serialization import read_json

        directory = Path(directory)
        meta = read_json(directory / "biorelex.json")
        if meta.get("n_features") != N_FEATURES:
            raise ConfigError(
                f"{directory}: SVM built with {meta.get('n_features')} hashed features, expected {N_FEATURES}"
            )
        svm = cls(LabelSet.from_dict(meta["labels"]), meta["representation"], meta["c"])
        weights = load_file(str(directory / "svm.safetensors"))
        svm.coef, svm.intercept = weights["coef"], weights["intercept"]
        return svm
