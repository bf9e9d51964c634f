"""``Extractor``: raw text or Documents -> entities and relations with a joint NER+RE model.

preprocess (sentences -> words -> sub-words, sorted into length buckets) -> forward
(``torch.inference_mode``) -> postprocess (BIOES decoding, biaffine pair scores -> Documents with
entities, scored relations and the sentence spans that are their evidence).

A *pipeline* mode puts a relation classifier (see :mod:`biorelex.inference.predictor`) behind the
entities: those of the joint model's NER, or the input's own entities, so joint and pipeline can
be compared on the same corpus with one flag.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from biorelex.data.sentences import split_sentences
from biorelex.data.tagging import TaggedSentence, decode_bioes, tokenize_words
from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError
from biorelex.models.joint.model import JointModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentencePrediction:
    """Predicted entities (word spans + tag-probability score) and relations of one sentence."""

    entities: list[tuple[int, int, str, float]]
    relations: list[tuple[int, int, str, float]]  # (head entity index, tail entity index, type, probability)


def raw_sentences(document: Document, splitter: str) -> list[TaggedSentence]:
    """A document's sentences (given ones, else split; its entities are *not* used) as words."""
    if not document.text.strip():
        return []
    spans = list(document.sentences) or split_sentences(document.text, splitter)
    tagged = []
    for span in spans:
        words = tokenize_words(document.text, span)
        if words:
            tagged.append(TaggedSentence(document.id, span, tuple(words), ("O",) * len(words)))
    return tagged


class Extractor:
    """A joint model ready to extract; optionally a relation classifier for pipeline mode.

    Args:
        model: a trained :class:`JointModel`.
        batch_size: sentences per forward pass.
        progress: show a progress bar.
        classifier: a :class:`~biorelex.inference.predictor.Predictor`; when given, relations come
            from it (pipeline mode) instead of the joint model's biaffine scorer.
        entities: ``predicted`` (the joint model's NER) or ``given`` (the input's entities, pipeline
            mode only).
    """

    def __init__(
        self,
        model: JointModel,
        batch_size: int = 32,
        progress: bool = True,
        classifier: Any = None,
        entities: str = "predicted",
    ) -> None:
        if entities not in ("predicted", "given"):
            raise ConfigError(f"entities must be 'predicted' or 'given', got {entities!r}")
        if entities == "given" and classifier is None:
            raise ConfigError("given entities need a relation classifier (pipeline mode)")
        self.model = model.eval()
        self.batch_size = batch_size
        self.progress = progress
        self.classifier = classifier
        self.entities = entities

    @classmethod
    def from_directory(
        cls,
        directory: str | Path,
        device: str | None = None,
        num_threads: int | None = None,
        classifier_dir: str | Path | None = None,
        candidates: str = "all",
        **kwargs: Any,
    ) -> Extractor:
        """Load a joint model directory (and a relation classifier for pipeline mode, pairing the
        entities by ``candidates``: ``all`` or a preset such as ``chemprot``)."""
        from biorelex.inference.predictor import Predictor, default_device

        if num_threads:
            torch.set_num_threads(num_threads)
        model = JointModel.load(directory, device or default_device())
        classifier = None
        if classifier_dir is not None:
            classifier = Predictor.from_directory(classifier_dir, device=device, candidates=candidates)
        return cls(model, classifier=classifier, **kwargs)

    # Public API --------------------------------------------------------------------------------

    def extract(self, text: str, document_id: str = "doc") -> Document:
        """Entities and relations of a plain text (sentences split)."""
        return self.predict([Document(id=document_id, text=text)])[0]

    def predict(self, documents: Sequence[Document]) -> list[Document]:
        """The documents with predicted entities and relations (their own ones replaced)."""
        if self.entities == "given":
            return list(self.classifier.predict(list(documents)))
        splitter = self.model.joint.splitter
        sentences = [raw_sentences(d, splitter) for d in documents]
        flat = [(s, d.text) for d, group in zip(documents, sentences, strict=True) for s in group]
        predictions = iter(self.predict_sentences(flat))
        results = []
        for document, group in zip(documents, sentences, strict=True):
            results.append(self._document(document, group, [next(predictions) for _ in group]))
        if self.classifier is not None:
            results = list(self.classifier.predict(results))
        return results

    def predict_sentences(self, sentences: Sequence[tuple[TaggedSentence, str]]) -> list[SentencePrediction]:
        """Predictions for ``(sentence, document text)`` pairs, in their order."""
        model = self.model
        examples = [model.encode(sentence, text) for sentence, text in sentences]
        truncated = sum(1 for e in examples if e.truncated_words)
        if truncated:
            logger.warning(
                "%d sentences exceed max_length=%d sub-words; their last words are not tagged",
                truncated,
                model.config.max_length,
            )
        order = sorted(range(len(examples)), key=lambda i: len(examples[i]))
        results: list[SentencePrediction | None] = [None] * len(examples)
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        device = model.device
        with torch.inference_mode():
            for batch_indices in tqdm(batches, desc="extract", unit="batch", disable=not self.progress):
                batch = {
                    k: v.to(device) for k, v in model.collate([examples[i] for i in batch_indices]).items()
                }
                output = model(batch)
                tag_probabilities = output.tag_logits.float().softmax(-1)  # (batch, words, tags)
                relation_probabilities = output.relation_logits.float().softmax(-1)  # (b, w, w, classes)
                for row, index in enumerate(batch_indices):
                    n = len(examples[index].word_starts)
                    results[index] = self._decode(tag_probabilities[row, :n], relation_probabilities[row])
        return [r for r in results if r is not None]

    # Internals ---------------------------------------------------------------------------------

    def _decode(
        self, tag_probabilities: torch.Tensor, relation_probabilities: torch.Tensor
    ) -> SentencePrediction:
        best, tag_ids = tag_probabilities.max(-1)
        tags = [self.model.tags[i] for i in tag_ids.tolist()]
        spans = decode_bioes(tags)
        confidence = best.tolist()
        entities = [
            (e.first, e.last, e.type, sum(confidence[e.first : e.last + 1]) / (e.last - e.first + 1))
            for e in spans
        ]
        relations: dict[tuple[int, int, str], float] = {}
        labels = self.model.relations
        symmetric = set(self.model.symmetric)
        for h, head in enumerate(spans):
            for t, tail in enumerate(spans):
                if h == t:
                    continue
                probabilities = relation_probabilities[head.last, tail.last]
                score, label = (float(v) for v in probabilities.max(-1))
                if int(label) == 0:
                    continue
                kind = labels[int(label)]
                key = (min(h, t), max(h, t), kind) if kind in symmetric else (h, t, kind)
                if score > relations.get(key, -1.0):
                    relations[key] = score
        return SentencePrediction(entities, [(h, t, k, s) for (h, t, k), s in relations.items()])

    def _document(
        self,
        document: Document,
        sentences: Sequence[TaggedSentence],
        predictions: Sequence[SentencePrediction],
    ) -> Document:
        entities: list[Entity] = []
        relations: list[Relation] = []
        symmetric = set(self.model.symmetric)
        for sentence, prediction in zip(sentences, predictions, strict=True):
            ids = []
            for first, last, kind, score in prediction.entities:
                start, end = sentence.words[first][0], sentence.words[last][1]
                entity_id = f"T{len(entities) + 1}"
                ids.append(entity_id)
                entities.append(
                    Entity(
                        entity_id,
                        kind,
                        ((start, end),),
                        document.text[start:end],
                        attributes={"score": round(score, 6)},
                    )
                )
            for head, tail, kind, score in prediction.relations:
                relations.append(
                    Relation(
                        f"R{len(relations) + 1}",
                        kind,
                        ids[head],
                        ids[tail],
                        score=min(1.0, max(0.0, score)),
                        symmetric=kind in symmetric,
                    )
                )
        return replace(
            document,
            entities=tuple(entities),
            relations=tuple(relations),
            sentences=tuple(s.span for s in sentences),
        )
