"""``Extractor``: raw text or Documents -> entities and relations with a joint NER+RE model.

preprocess (sentences -> words -> sub-words, sorted into length buckets) -> forward
(``torch.inference_mode``) -> postprocess (BIOES decoding, biaffine pair scores -> Documents with
entities, scored relations and the sentence spans that are their evidence).

A *pipeline* mode puts a relation classifier (see :mod:`biorelex.inference.predictor`) behind the
entities: those of the joint model's NER, or the input's own entities, so joint and pipeline can
be compared on the same corpus with one flag. With the input's own (``given``) entities and no
classifier, the joint model's RE module runs over them alone (their BIOES tags feed its label
embeddings, as the gold tags do in training): relation extraction with gold entities, the usual
comparison point for an end-to-end score.
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
from biorelex.data.tagging import (
    TaggedEntity,
    TaggedSentence,
    TaggingReport,
    decode_bioes,
    tag_document,
    tokenize_words,
)
from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError
from biorelex.evaluation.joint import SETTING
from biorelex.models.joint.model import JointModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentencePrediction:
    """Predicted entities (word spans + tag-probability score) and relations of one sentence."""

    entities: list[tuple[int, int, str, float]]
    relations: list[tuple[int, int, str, float]]  # (head entity index, tail entity index, type, probability)
    entity_ids: tuple[str, ...] = ()  # given entities: the input Document's ids of ``entities``


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
        entities: ``predicted`` (the joint model's NER) or ``given`` (the input's entities: scored by
            the classifier in pipeline mode, else by the joint model's own RE module).
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

    @property
    def setting(self) -> str:
        """What the scores of these predictions measure (every report states it)."""
        if self.entities == "given":
            by = "a relation classifier" if self.classifier is not None else "the joint model's RE module"
            return f"gold entities: relations by {by} over the given mentions, sentence level"
        if self.classifier is not None:
            return "pipeline: the joint model's predicted entities, a relation classifier's relations, sentence level"
        return SETTING

    def predict(self, documents: Sequence[Document]) -> list[Document]:
        """The documents with predicted entities and relations (their own ones replaced); with given
        entities, the documents with their own entities and predicted relations."""
        given = self.entities == "given"
        if given and self.classifier is not None:
            return list(self.classifier.predict(list(documents)))
        splitter = self.model.joint.splitter
        if given:
            report = TaggingReport()
            tagged = [tag_document(d, report, splitter) for d in documents]
            sentences = [[s for s in group if s.words] for group in tagged]
            self._check_given(sentences, report)
        else:
            sentences = [raw_sentences(d, splitter) for d in documents]
        flat = [(s, d.text) for d, group in zip(documents, sentences, strict=True) for s in group]
        predictions = iter(self.predict_sentences(flat, given_entities=given))
        results = []
        for document, group in zip(documents, sentences, strict=True):
            results.append(self._document(document, group, [next(predictions) for _ in group], given))
        if self.classifier is not None:
            results = list(self.classifier.predict(results))
        return results

    def predict_sentences(
        self, sentences: Sequence[tuple[TaggedSentence, str]], given_entities: bool = False
    ) -> list[SentencePrediction]:
        """Predictions for ``(sentence, document text)`` pairs, in their order. With
        ``given_entities``, each sentence's own entities and tags are RE's candidates and input."""
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
                output = model(batch, re_entities="gold" if given_entities else "predicted")
                tag_probabilities = output.tag_logits.float().softmax(-1)  # (batch, words, tags)
                relation_probabilities = output.relation_logits.float().softmax(-1)  # (b, w, w, classes)
                for row, index in enumerate(batch_indices):
                    n = len(examples[index].word_starts)
                    given = examples[index].entities if given_entities else None
                    results[index] = self._decode(
                        tag_probabilities[row, :n], relation_probabilities[row], given
                    )
        return [r for r in results if r is not None]

    # Internals ---------------------------------------------------------------------------------

    def _check_given(self, sentences: Sequence[Sequence[TaggedSentence]], report: TaggingReport) -> None:
        """Log what the given entities lose to BIOES, and refuse types the model was not trained on
        (their tags would be read as O)."""
        known = {tag.split("-", 1)[1] for tag in self.model.tags if "-" in tag}
        unknown = sorted({e.type for group in sentences for s in group for e in s.entities} - known)
        if unknown:
            raise ConfigError(
                f"given entity types {unknown} are not among the joint model's types {sorted(known)}; "
                "score given entities with a model trained on them, or use a relation classifier"
            )
        lost = report.overlapping_dropped + report.relations_across_sentences
        if lost:
            logger.info("given entities, what BIOES cannot hold: %s", report.to_dict())

    def _decode(
        self,
        tag_probabilities: torch.Tensor,
        relation_probabilities: torch.Tensor,
        given: Sequence[TaggedEntity] | None = None,
    ) -> SentencePrediction:
        if given is None:
            best, tag_ids = tag_probabilities.max(-1)
            tags = [self.model.tags[i] for i in tag_ids.tolist()]
            spans = decode_bioes(tags)
            confidence = best.tolist()
            entities = [
                (e.first, e.last, e.type, sum(confidence[e.first : e.last + 1]) / (e.last - e.first + 1))
                for e in spans
            ]
        else:
            spans = list(given)
            entities = [(e.first, e.last, e.type, 1.0) for e in spans]
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
        found = [(h, t, k, s) for (h, t, k), s in relations.items()]
        return SentencePrediction(entities, found, tuple(e.entity_id for e in given or ()))

    def _document(
        self,
        document: Document,
        sentences: Sequence[TaggedSentence],
        predictions: Sequence[SentencePrediction],
        given: bool = False,
    ) -> Document:
        entities: list[Entity] = []
        relations: list[Relation] = []
        symmetric = set(self.model.symmetric)
        for sentence, prediction in zip(sentences, predictions, strict=True):
            ids = list(prediction.entity_ids)
            for first, last, kind, score in prediction.entities if not given else ():
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
            entities=document.entities if given else tuple(entities),
            relations=tuple(relations),
            sentences=tuple(s.span for s in sentences),
        )
