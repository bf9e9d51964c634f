"""The training split's own text, one document per line, for task-adaptive pre-training (issue 7).

Continued pre-training on PubMed abstracts (`biorelex pretrain --text abstracts_cased.txt`) cost DDI
F1, and most DDI sentences are DrugBank drug descriptions, a genre the unlabeled corpus lacks. The
other text a user always has is the task's own training text with its labels ignored (Gururangan et
al. 2020 call this task-adaptive pre-training). This writes it: the distinct sentences of the
configuration's **training split only** (never dev or test), grouped by their source document in
order of first appearance, one document per line, so `biorelex pretrain` packs them as running text.

    python benchmarks/task_text.py configs/ddi.toml -o ../runs/ddi_train_text.txt

Prints the counts (documents, sentences, words) and writes nothing inside the repository.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DIR  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="A classification config (its data.train split is read).")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="Text file (outside the repository)."
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    output = args.output.resolve()
    if output.is_relative_to(BENCH_DIR.parent.resolve()):
        raise SystemExit(f"{args.output}: corpus text stays outside the repository; choose another path")

    from biorelex.config import load_config
    from biorelex.data.formats._io import atomic_write
    from biorelex.errors import BiorelexError
    from biorelex.training.data import training_documents

    try:
        config = load_config(args.config, args.overrides)
        train = training_documents(config.data)[0]  # with data.train_fraction: that fraction only
    except BiorelexError as exc:
        raise SystemExit(f"error: {exc}") from None
    by_document: dict[str, list[str]] = {}
    for document in train:
        sentences = by_document.setdefault(str(document.metadata.get("doc", document.id)), [])
        text = " ".join(document.text.split())  # one line per document: no newlines inside
        if text and text not in sentences:
            sentences.append(text)
    lines = [" ".join(sentences) for sentences in by_document.values()]
    with atomic_write(output) as handle:
        handle.writelines(line + "\n" for line in lines)
    distinct = sum(len(s) for s in by_document.values())
    words = sum(len(line.split()) for line in lines)
    print(
        f"{args.output}: {len(lines)} documents, {distinct} distinct sentences, {words} words "
        f"from {len(train)} training instances of {config.data.corpus} ({config.data.train})"
    )


if __name__ == "__main__":
    main()
