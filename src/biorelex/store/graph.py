"""The stored relations as a graph: edges aggregated between nodes, exported or queried.

An edge is ``(head node, relation type, tail node)`` with its count (relation mentions), the
number of documents, max and mean score, and the evidence sentence of its best-scored mention.
Symmetric relations are stored as extracted and aggregated with their two nodes in sorted order.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from biorelex.data.formats._io import atomic_write
from biorelex.errors import ConfigError
from biorelex.store.db import ExtractionRow, KnowledgeStore, MentionRow, RelationRow, normalise_surface

EXPORT_FORMATS = ("graphml", "csv", "neo4j-csv")


@dataclass
class Node:
    """A graph node: its key, the most frequent type and surface text of its mentions."""

    key: str
    mentions: int = 0
    types: Counter[str] = field(default_factory=Counter)
    names: Counter[str] = field(default_factory=Counter)

    @property
    def type(self) -> str:
        return self.types.most_common(1)[0][0] if self.types else ""

    @property
    def name(self) -> str:
        return self.names.most_common(1)[0][0] if self.names else self.key


@dataclass
class Edge:
    """Relation mentions aggregated between two nodes."""

    head: str
    type: str
    tail: str
    count: int = 0
    documents: set[int] = field(default_factory=set)
    max_score: float | None = None
    score_sum: float = 0.0
    scored: int = 0
    evidence: str = ""

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.scored if self.scored else None

    def add(self, document: int, score: float | None, evidence: str) -> None:
        self.count += 1
        self.documents.add(document)
        if score is not None:
            self.scored += 1
            self.score_sum += score
            if self.max_score is None or score > self.max_score:
                self.max_score, self.evidence = score, evidence
        if not self.evidence:
            self.evidence = evidence

    def to_dict(self) -> dict[str, object]:
        return {
            "head": self.head,
            "type": self.type,
            "tail": self.tail,
            "count": self.count,
            "documents": len(self.documents),
            "max_score": None if self.max_score is None else round(self.max_score, 6),
            "mean_score": None if self.mean_score is None else round(self.mean_score, 6),
            "evidence": self.evidence,
        }


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[Edge]


def build_graph(
    store: KnowledgeStore, model: str | None = None, min_score: float = 0.0, node: str | None = None
) -> Graph:
    """Aggregate the stored relations (of one ``model``, at least ``min_score``; only the edges
    touching ``node`` when given: a node key, a concept id or a surface form)."""
    relations = select(RelationRow, ExtractionRow.document_id).join(ExtractionRow)
    mentions = select(MentionRow).join(ExtractionRow)
    if model is not None:
        relations = relations.where(ExtractionRow.model == model)
        mentions = mentions.where(ExtractionRow.model == model)
    if node is not None:
        keys = matching_nodes(store, node)
        relations = relations.where(or_(RelationRow.head_node.in_(keys), RelationRow.tail_node.in_(keys)))
    edges: dict[tuple[str, str, str], Edge] = {}
    with Session(store.engine) as session:
        for relation, document in session.execute(relations):
            if relation.score is not None and relation.score < min_score:
                continue
            head, tail = relation.head_node, relation.tail_node
            if relation.symmetric and tail < head:
                head, tail = tail, head
            key = (head, relation.type, tail)
            edge = edges.get(key)
            if edge is None:
                edge = edges[key] = Edge(head, relation.type, tail)
            edge.add(document, relation.score, relation.evidence)
        wanted = {k for e in edges.values() for k in (e.head, e.tail)}
        nodes = {k: Node(k) for k in sorted(wanted)}
        for mention in session.scalars(mentions.where(MentionRow.node.in_(wanted)) if node else mentions):
            if mention.node in nodes:
                item = nodes[mention.node]
                item.mentions += 1
                item.types[mention.type] += 1
                item.names[mention.text] += 1
    ordered = sorted(edges.values(), key=lambda e: (-e.count, e.head, e.type, e.tail))
    return Graph(nodes, ordered)


def matching_nodes(store: KnowledgeStore, text: str) -> list[str]:
    """Node keys that ``text`` names: a key itself, one of a composite key's concept ids, or the
    normalised surface form of one of the node's mentions."""
    surface = normalise_surface(text)
    with Session(store.engine) as session:
        keys = set(
            session.scalars(
                select(MentionRow.node).where(or_(MentionRow.node == text, MentionRow.surface == surface))
            )
        )
        composite = session.scalars(select(MentionRow.node).where(MentionRow.node.contains(text)))
        keys.update(k for k in composite if text in k.split("|"))
        for column in (RelationRow.head_node, RelationRow.tail_node):  # concept-level arguments
            keys.update(session.scalars(select(column).where(column == text)))
    return sorted(keys)


def export_graph(graph: Graph, output: Path, format: str) -> list[Path]:
    """Write ``graph`` as GraphML, CSV (nodes.csv + edges.csv) or neo4j-admin import CSVs."""
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"unknown graph format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    if format == "graphml":
        path = output if output.suffix else output / "graph.graphml"
        _write_graphml(graph, path)
        return [path]
    output.mkdir(parents=True, exist_ok=True)
    nodes_path, edges_path = output / "nodes.csv", output / "edges.csv"
    neo4j = format == "neo4j-csv"
    with atomic_write(nodes_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [":ID", "name", "mentions:int", ":LABEL"] if neo4j else ["id", "name", "type", "mentions"]
        )
        for node in graph.nodes.values():
            label = _neo4j_label(node.type) if neo4j else node.type
            writer.writerow(
                [node.key, node.name, node.mentions, label]
                if neo4j
                else [node.key, node.name, label, node.mentions]
            )
    with atomic_write(edges_path) as handle:
        writer = csv.writer(handle)
        header = ["head", "tail", "type", "count", "documents", "max_score", "mean_score", "evidence"]
        if neo4j:
            header = [
                ":START_ID",
                ":END_ID",
                ":TYPE",
                "count:int",
                "documents:int",
                "max_score:float",
                "mean_score:float",
                "evidence",
            ]
        writer.writerow(header)
        for row in _edge_rows(graph):
            writer.writerow(row)
    return [nodes_path, edges_path]


def _edge_rows(graph: Graph) -> Iterator[list[object]]:
    for edge in graph.edges:
        data = edge.to_dict()
        yield [
            edge.head,
            edge.tail,
            edge.type,
            edge.count,
            data["documents"],
            "" if data["max_score"] is None else data["max_score"],
            "" if data["mean_score"] is None else data["mean_score"],
            edge.evidence,
        ]


def _neo4j_label(kind: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in kind) or "Entity"
    return f"Entity;{cleaned}" if cleaned != "Entity" else "Entity"


def _write_graphml(graph: Graph, path: Path) -> None:
    namespace = "http://graphml.graphdrawing.org/xmlns"
    root = ET.Element("graphml", xmlns=namespace)
    keys = [
        ("name", "node", "string"),
        ("type", "node", "string"),
        ("mentions", "node", "int"),
        ("relation", "edge", "string"),
        ("count", "edge", "int"),
        ("documents", "edge", "int"),
        ("max_score", "edge", "double"),
        ("mean_score", "edge", "double"),
        ("evidence", "edge", "string"),
    ]
    for name, domain, kind in keys:
        ET.SubElement(root, "key", {"id": name, "for": domain, "attr.name": name, "attr.type": kind})
    element = ET.SubElement(root, "graph", id="biorelex", edgedefault="directed")
    for node in graph.nodes.values():
        item = ET.SubElement(element, "node", id=node.key)
        for name, text in (("name", node.name), ("type", node.type), ("mentions", str(node.mentions))):
            ET.SubElement(item, "data", key=name).text = text
    for index, edge in enumerate(graph.edges):
        item = ET.SubElement(element, "edge", id=f"e{index}", source=edge.head, target=edge.tail)
        data = edge.to_dict()
        values = {
            "relation": edge.type,
            **{k: data[k] for k in ("count", "documents", "max_score", "mean_score", "evidence")},
        }
        for name, value in values.items():
            if value is not None:
                ET.SubElement(item, "data", key=name).text = str(value)
    ET.indent(root)
    with atomic_write(path) as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        handle.write(ET.tostring(root, encoding="unicode") + "\n")
