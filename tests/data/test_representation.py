from __future__ import annotations

import pytest

from biorelex.data.candidates import Candidate
from biorelex.data.representation import represent
from biorelex.document import Document, Entity
from biorelex.errors import ConfigError

TEXT = "Before. Aspirin inhibits COX-1 strongly."


def candidate(head_word: str, tail_word: str, tail_type: str = "GENE-Y") -> Candidate:
    def ent(id: str, type: str, word: str) -> Entity:
        start = TEXT.index(word)
        return Entity(id, type, ((start, start + len(word)),), word)

    head, tail = ent("h", "CHEMICAL", head_word), ent("t", tail_type, tail_word)
    doc = Document("d", TEXT, (head, tail) if head.spans != tail.spans else (head,))
    return Candidate(doc, head, tail, (8, len(TEXT)))


def test_mask() -> None:
    r = represent(candidate("Aspirin", "COX-1"), "mask")
    assert r.text == "@CHEMICAL$ inhibits @GENE-Y$ strongly."
    assert r.text[r.head[0] : r.head[1]] == "@CHEMICAL$" and r.text[r.tail[0] : r.tail[1]] == "@GENE-Y$"


def test_mask_when_tail_comes_first() -> None:
    c = candidate("Aspirin", "COX-1")
    swapped = Candidate(c.document, c.tail, c.head, c.span)
    r = represent(swapped, "mask")
    assert r.text == "@CHEMICAL$ inhibits @GENE-Y$ strongly."
    assert r.text[r.head[0] : r.head[1]] == "@GENE-Y$"


def test_joint_mask_for_overlapping_mentions() -> None:
    r = represent(candidate("COX-1", "COX"), "mask")
    assert r.text == "Aspirin inhibits @CHEMICAL-GENE-Y$ strongly."
    assert r.head == r.tail


def test_typed_punctuation_markers() -> None:
    r = represent(candidate("Aspirin", "COX-1"), "markers")
    assert r.text == "@ * CHEMICAL * Aspirin @ inhibits # ^ GENE-Y ^ COX-1 # strongly."
    assert r.text[r.head[0] : r.head[1]].startswith("@ * CHEMICAL")
    assert r.text[r.tail[0] : r.tail[1]] == "# ^ GENE-Y ^ COX-1 #"


def test_none_keeps_the_sentence() -> None:
    r = represent(candidate("Aspirin", "COX-1"), "none")
    assert r.text == "Aspirin inhibits COX-1 strongly." and r.text[r.tail[0] : r.tail[1]] == "COX-1"


def test_unknown_mode() -> None:
    with pytest.raises(ConfigError):
        represent(candidate("Aspirin", "COX-1"), "bold")  # type: ignore[arg-type]
