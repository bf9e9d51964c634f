"""The knowledge-graph store on SQLite and PostgreSQL: round trip, idempotence, transactions, graph."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from biorelex.document import Document, Entity, Relation
from biorelex.errors import ConfigError
from biorelex.inference.batch import extract_corpus
from biorelex.store import KnowledgeStore, node_key, normalise_surface
from biorelex.store.graph import build_graph, export_graph, matching_nodes

TEXT = "Aspirin inhibits COX-1. Aspirin binds albumin."


def extracted(doc_id: str = "d1", text: str = TEXT, score: float = 0.9) -> Document:
    entities = (
        Entity("T1", "Chemical", ((0, 7),), "Aspirin", ("MESH:D001241",), {"score": 0.98}),
        Entity("T2", "Gene", ((17, 22),), "COX-1"),
        Entity("T3", "Chemical", ((24, 31),), "Aspirin", ("MESH:D001241",)),
        Entity("T4", "Gene", ((38, 45),), "albumin"),
    )
    relations = (
        Relation("R1", "Inhibit", "T1", "T2", score=score),
        Relation("R2", "Bind", "T3", "T4", score=0.6, symmetric=True),
    )
    return Document(doc_id, text, entities, relations, ((0, 23), (24, 46)), {"pmid": "123"})


def test_round_trip_keeps_every_field(store_url):
    with KnowledgeStore(store_url) as store:
        document = extracted()
        assert store.write([document], "joint-v1") == 1
        assert store.documents("joint-v1") == [document]
        assert store.models() == ["joint-v1"]


def test_rewriting_a_document_replaces_it_never_duplicates(store_url):
    with KnowledgeStore(store_url) as store:
        store.write([extracted("d1"), extracted("d2")], "m")
        store.write([extracted("d1", score=0.5)], "m")
        store.write([extracted("d1")], "other-model")  # a second model's extraction sits beside it
        assert store.counts() == {"documents": 2, "extractions": 3, "mentions": 12, "relations": 6}
        assert store.stored_ids("m") == {"d1", "d2"}
        assert store.stored_ids("m", ["d2", "d9"]) == {"d2"}
        (d1,) = [d for d in store.documents("m") if d.id == "d1"]
        assert d1.relations[0].score == 0.5


def test_a_failing_batch_writes_nothing(store_url):
    with KnowledgeStore(store_url) as store:
        broken = extracted("d2")
        object.__setattr__(broken, "relations", (Relation("R9", "X", "T1", "T404"),))  # bypass the check
        with pytest.raises(KeyError):
            store.write([extracted("d1"), broken], "m")
        assert store.counts()["documents"] == 0 and store.counts()["relations"] == 0


def test_an_interrupted_extraction_resumes_without_loss_or_duplicates(store_url):
    documents = [Document(f"d{i}", f"text {i}") for i in range(10)]
    seen: list[str] = []

    def predict(chunk):
        seen.extend(d.id for d in chunk)
        if len(seen) > 6:  # dies while the third chunk is in flight
            raise KeyboardInterrupt
        return [extracted(d.id) for d in chunk]

    with KnowledgeStore(store_url) as store:
        with pytest.raises(KeyboardInterrupt):
            extract_corpus(predict, documents, store=store, model_name="m", chunk_size=3, progress=False)
        assert store.stored_ids("m") == {f"d{i}" for i in range(6)}  # two whole chunks, nothing half
        seen.clear()
        result = extract_corpus(
            lambda c: [extracted(d.id) for d in c],
            documents,
            store=store,
            model_name="m",
            chunk_size=3,
            progress=False,
        )
        assert (result.processed, result.skipped) == (4, 6)
        assert store.stored_ids("m") == {f"d{i}" for i in range(10)}
        assert store.counts()["extractions"] == 10 and store.counts()["relations"] == 20


def test_graph_aggregates_by_concept_else_surface(store_url, tmp_path):
    with KnowledgeStore(store_url) as store:
        store.write([extracted("d1", score=0.9), extracted("d2", score=0.7)], "m")
        graph = build_graph(store)
        edges = {(e.head, e.type, e.tail): e for e in graph.edges}
        inhibit = edges[("MESH:D001241", "Inhibit", "Gene|cox-1")]
        assert (inhibit.count, len(inhibit.documents)) == (2, 2)
        assert inhibit.max_score == pytest.approx(0.9) and inhibit.mean_score == pytest.approx(0.8)
        assert inhibit.evidence == "Aspirin inhibits COX-1."
        assert ("Gene|albumin", "Bind", "MESH:D001241") in edges  # symmetric: sorted node order
        assert graph.nodes["MESH:D001241"].name == "Aspirin" and graph.nodes["MESH:D001241"].mentions == 4
        assert build_graph(store, min_score=0.8).edges[0].count == 1
        # "what relates to X": by surface form, concept id or key
        for query in ("aspirin", "MESH:D001241", "Gene|cox-1", " COX-1 "):
            assert matching_nodes(store, query)
        related = build_graph(store, node="cox-1")
        assert [(e.head, e.type, e.tail) for e in related.edges] == [
            ("MESH:D001241", "Inhibit", "Gene|cox-1")
        ]

        (graphml,) = export_graph(graph, tmp_path / "g.graphml", "graphml")
        root = ET.parse(graphml).getroot()
        ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
        assert len(root.findall(".//g:node", ns)) == 3 and len(root.findall(".//g:edge", ns)) == 2
        nodes_csv, edges_csv = export_graph(graph, tmp_path / "neo4j", "neo4j-csv")
        header = next(csv.reader(nodes_csv.open()))
        assert header[0] == ":ID" and ":LABEL" in header
        rows = list(csv.DictReader(edges_csv.open()))
        assert {r[":TYPE"] for r in rows} == {"Inhibit", "Bind"} and rows[0]["count:int"] == "2"
        _, plain_edges = export_graph(graph, tmp_path / "csv", "csv")
        assert next(csv.reader(plain_edges.open()))[:3] == ["head", "tail", "type"]
        with pytest.raises(ConfigError, match="unknown graph format"):
            export_graph(graph, tmp_path / "x", "dot")


def test_node_keys():
    assert normalise_surface("  Aspirin,\n tablets ") == "aspirin, tablets"
    assert node_key(Entity("T1", "Chemical", ((0, 3),), "ASA", ("MESH:1", "MESH:2"))) == "MESH:1|MESH:2"
    assert node_key(Entity("T1", "Chemical", ((0, 3),), "ASA", ("-1",))) == "Chemical|asa"


def test_unopenable_store_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot open the store"):
        KnowledgeStore("nosuchdriver://x")
    with pytest.raises(ConfigError, match="cannot open the store"):
        KnowledgeStore(f"sqlite:///{tmp_path}/missing/dir/kg.db")


def test_processes_opening_a_new_sqlite_store_at_once_all_succeed(tmp_path):
    """Ray workers open one new store together; SQLite's lock races must not fail any of them."""
    url = f"sqlite:///{tmp_path / 'kg.db'}"
    script = (
        "import sys, time\n"
        "from biorelex.store import KnowledgeStore\n"
        "start = float(sys.argv[2])\n"
        "time.sleep(max(0.0, start - time.time()))\n"
        "KnowledgeStore(sys.argv[1]).close()\n"
    )
    start = time.time() + 3.0  # every process past its imports before any opens the file
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url, str(start)], stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, "\n".join(errors)
    with KnowledgeStore(url) as store:
        assert store.stored_ids("any") == set()
