"""Unlabeled ChemProt-style pairs from plain abstracts, entities found with a training-set gazetteer.

Self-training with 100% of the ChemProt labels (issue 7) needs unlabeled candidate pairs, and the
unlabeled corpus is plain text. This tags it with a dictionary: every CHEMICAL / GENE-Y / GENE-N
mention string of the ChemProt training split (the gene type a string had most often), matched
case-sensitively as whole words, longest first, without overlaps. Each sentence with at least one
chemical and one gene mention gives one Document per (chemical, gene) pair, as in the BLURB
instance files (two entities, one sentence), so the ChemProt configuration reads them unchanged.

Abstracts of ChemProt's training and dev PMIDs are skipped (they are labelled already, or would
leak into model selection); the unlabeled corpus already has the test PMIDs removed.

    python benchmarks/gazetteer_pairs.py -o ../runs/unlabeled_chemprot_pairs.jsonl --max-pairs 15000

Writes JSONL Documents (biorelex's own format) and prints the counts.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR  # noqa: E402

logger = logging.getLogger("gazetteer_pairs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="JSONL file (outside the repository)."
    )
    parser.add_argument("--text", type=Path, default=None, help="Abstracts, one per line (default: shared).")
    parser.add_argument("--max-pairs", type=int, default=15000)
    parser.add_argument("--min-length", type=int, default=3, help="Shortest mention string kept.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from biorelex.config import load_config
    from biorelex.data.corpora import data_dir
    from biorelex.data.formats import write
    from biorelex.data.sentences import split_sentences
    from biorelex.document import Document, Entity
    from biorelex.training.data import load_documents, training_documents

    overrides = [f"data.data_dir='{args.data_dir}'"] if args.data_dir else []
    config = load_config(BENCH_DIR.parent / "configs" / "chemprot.toml", overrides)
    train = training_documents(config.data)[0]
    seen_pmids = {d.metadata.get("pmid") for d in train} | {
        d.metadata.get("pmid") for d in load_documents(config.data, config.data.dev) or []
    }
    types: dict[str, Counter[str]] = defaultdict(Counter)
    for document in train:
        for entity in document.entities:
            types[entity.text][entity.type] += 1
    gazetteer = {
        name: counts.most_common(1)[0][0]
        for name, counts in types.items()
        if len(name) >= args.min_length and not name.isdigit() and "\n" not in name
    }
    logger.info("gazetteer: %d mention strings (%s)", len(gazetteer), Counter(gazetteer.values()))
    names = sorted(gazetteer, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w-])")

    text_path = args.text or data_dir(config.data.data_dir) / "unlabeled" / "abstracts_cased.txt"
    ids_path = text_path.with_suffix(".ids.tsv")
    if not text_path.exists() or not ids_path.exists():
        raise SystemExit(f"error: {text_path} and its aligned {ids_path.name} are both needed")
    lines = text_path.read_text(encoding="utf-8").splitlines()
    ids = ids_path.read_text(encoding="utf-8").splitlines()
    if len(lines) != len(ids):
        raise SystemExit(f"error: {text_path} has {len(lines)} lines but {ids_path} has {len(ids)}")
    order = list(range(len(lines)))
    random.Random(args.seed).shuffle(order)
    documents: list[Document] = []
    skipped = Counter[str]()
    for row in order:
        source, doc_id, pmid = (ids[row].split("\t") + ["", ""])[:3]
        if source.startswith("chemprot") or (pmid and pmid in seen_pmids):
            skipped["chemprot train/dev abstract"] += 1
            continue
        text = lines[row]
        for number, (start, end) in enumerate(split_sentences(text)):
            sentence = text[start:end]
            mentions = [(m.start(), m.end(), gazetteer[m.group()]) for m in pattern.finditer(sentence)]
            chemicals = [m for m in mentions if m[2] == "CHEMICAL"]
            genes = [m for m in mentions if m[2] != "CHEMICAL"]
            for i, chemical in enumerate(chemicals):
                for j, gene in enumerate(genes):
                    entities = tuple(
                        Entity(id=name, type=kind, spans=((s, e),), text=sentence[s:e])
                        for name, (s, e, kind) in (("T1", chemical), ("T2", gene))
                    )
                    documents.append(
                        Document(
                            id=f"{pmid or doc_id}.s{number}.{i}.{j}",
                            text=sentence,
                            entities=entities,
                            sentences=((0, len(sentence)),),
                            metadata={"source": f"gazetteer:{source}", "pmid": pmid, "split": "unlabeled"},
                        )
                    )
        if len(documents) >= args.max_pairs:
            break
    documents = documents[: args.max_pairs]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    written = write(documents, args.output, "jsonl")
    sources = Counter(d.metadata["source"] for d in documents)
    print(
        f"{written} pairs from {len({d.id.rsplit('.', 3)[0] for d in documents})} abstracts -> {args.output}"
    )
    print(f"skipped: {dict(skipped)}; sources: {dict(sources.most_common(8))}")


if __name__ == "__main__":
    main()
