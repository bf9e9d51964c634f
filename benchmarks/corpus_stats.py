"""Statistics of every shared corpus, through ``biorelex stats --corpus NAME --json``.

Usage: python benchmarks/corpus_stats.py [--data-dir ../shared/data] [--out benchmarks/corpus_stats.json]

Writes the CLI's JSON for every catalogued corpus, the ChemProt candidate counts beside BLURB's,
and ``corpus.chemprot.candidates.{train,dev,test}`` into benchmarks/summary.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import provenance, update_summary, write_json  # noqa: E402

from biorelex.data.corpora import CORPORA  # noqa: E402

BLURB_CHEMPROT = {"train": 18035, "dev": 11268, "test": 15745}
logger = logging.getLogger("corpus_stats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "corpus_stats.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    biorelex = Path(sys.executable).with_name("biorelex")
    results = {}
    for name in CORPORA:
        command = [str(biorelex), "stats", "--corpus", name, "--data-dir", args.data_dir, "--json"]
        logger.info("%s", " ".join(command[1:]))
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"biorelex stats --corpus {name} failed:\n{done.stderr}")
        results[name] = json.loads(done.stdout)
    chemprot = results["chemprot"]["splits"]
    comparison = {
        split: {
            "biorelex": chemprot[split]["candidates"]["pairs"],
            "blurb": BLURB_CHEMPROT[split],
            "difference": chemprot[split]["candidates"]["pairs"] - BLURB_CHEMPROT[split],
        }
        for split in ("train", "dev", "test")
    }
    output = {
        **provenance("python benchmarks/corpus_stats.py --data-dir " + args.data_dir),
        "per_corpus_command": "biorelex stats --corpus NAME --data-dir DATA --json",
        "chemprot_candidates_vs_blurb": comparison,
        "corpora": results,
    }
    write_json(Path(args.out), output)
    for split, row in comparison.items():
        update_summary(f"corpus.chemprot.candidates.{split}", row["biorelex"])
        logger.info(
            "ChemProt %s candidates: %d (BLURB %d, %+d)",
            split,
            row["biorelex"],
            row["blurb"],
            row["difference"],
        )


if __name__ == "__main__":
    main()
