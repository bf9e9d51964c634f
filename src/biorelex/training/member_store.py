"""A :class:`~biorelex.training.trainer.MemberStore` in one JSON file, small enough to commit.

``per_type_binary`` trains one model per relation type; on ChemProt that is five runs of about 46
minutes each on two CPU cores, more than a working session, and run directories (the weights) may
not outlive a machine. This file keeps, for each finished member, what scoring the combined model
on dev and test needs: its facts, its epoch history and its P(type) on every evaluated pair, with
the provenance it was given. Scores are stored as zlib-compressed little-endian float32 in the
order of the sorted pair keys, with the SHA-256 of those keys: a member is restored only onto the
same pairs, so a changed corpus or candidate setting is an error, not a silent mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from biorelex.data.formats._io import atomic_write
from biorelex.errors import ConfigError
from biorelex.inference.predictor import PairKey
from biorelex.training.trainer import KeptMember

logger = logging.getLogger(__name__)


def _digest(keys: list[PairKey]) -> str:
    return hashlib.sha256("\n".join("\t".join(k) for k in keys).encode("utf-8")).hexdigest()


class JsonMemberStore:
    """Kept binary members in ``path`` (rewritten atomically after each member).

    ``provenance()`` (e.g. command, commit, machine, date) is called as each member is kept and
    stored with it.
    """

    def __init__(self, path: str | Path, provenance: Callable[[], dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.provenance = provenance or dict
        self.members: dict[str, Any] = {}
        if self.path.exists():
            try:
                self.members = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise ConfigError(
                    f"{self.path}: not a kept-members file ({error}); move it away to start afresh"
                ) from error

    def keep(self, name: str, member: KeptMember) -> None:
        scores: dict[str, Any] = {}
        for split, by_key in member.scores.items():
            keys = sorted(by_key)
            values = np.array([by_key[k] for k in keys], dtype="<f4")
            scores[split] = {
                "pairs": len(keys),
                "keys_sha256": _digest(keys),
                "p_float32_zlib_base64": base64.b64encode(zlib.compress(values.tobytes(), 9)).decode("ascii"),
            }
        self.members[name] = {
            "provenance": self.provenance(),
            "facts": member.facts,
            "history": member.history,
            "scores": scores,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.path) as handle:
            json.dump(self.members, handle, indent=2, sort_keys=True)
            handle.write("\n")
        logger.info("binary member %s kept in %s", name, self.path)

    def restore(self, name: str, pairs: dict[str, list[PairKey]]) -> KeptMember | None:
        entry = self.members.get(name)
        if entry is None:
            return None
        scores: dict[str, dict[PairKey, float]] = {}
        for split, keys in pairs.items():
            stored = entry["scores"].get(split)
            ordered = sorted(keys)
            if stored is None or stored["pairs"] != len(ordered) or stored["keys_sha256"] != _digest(ordered):
                raise ConfigError(
                    f"{self.path}: member {name!r} was kept with other {split} pairs than this run scores "
                    f"({stored['pairs'] if stored else 0} kept, {len(ordered)} now; the corpus or the "
                    "candidate settings changed); delete its entry to train it again"
                )
            raw = zlib.decompress(base64.b64decode(stored["p_float32_zlib_base64"]))
            values = np.frombuffer(raw, dtype="<f4")
            scores[split] = {k: float(v) for k, v in zip(ordered, values, strict=True)}
        logger.info("binary member %s restored from %s (kept %s)", name, self.path, entry["provenance"])
        return KeptMember(entry["facts"], entry["history"], scores)

    def alone(self, gold: Mapping[str, Mapping[PairKey, str | None]]) -> dict[str, Any]:
        """Each kept member scored on its own: its type against every other pair, at P >= 0.5.

        ``gold`` holds per split the gold label of every pair the members were kept with (``None``
        for no relation). Percent precision, recall and F1 per member and split; the combined model
        also depends on the other members, so these are indicative only.
        """
        from biorelex.evaluation.metrics import classification_scores

        pairs = {split: list(labels) for split, labels in gold.items()}
        report: dict[str, Any] = {}
        for name in self.members:
            kept = self.restore(name, pairs)
            assert kept is not None
            report[name] = {}
            for split, labels in gold.items():
                truth = [int(label == name) for label in labels.values()]
                predicted = [int(kept.scores[split][key] >= 0.5) for key in labels]
                scores = classification_scores(truth, predicted, ("other", name), (name,))
                report[name][split] = {
                    **{k: round(100 * scores[f"micro_{k}"], 2) for k in ("precision", "recall", "f1")},
                    "pairs": len(truth),
                }
        return report

    def kept_provenance(self) -> dict[str, Any]:
        return {name: entry["provenance"] for name, entry in self.members.items()}

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
