"""Deterministic experiment allocation, shared by the serving side, the generator and dbt.

The rule is chosen so that every SQL engine can recompute it:

    bucket = int(first 8 hex digits of md5(f"{salt}-{learner_id}"), 16) mod 10000

and the bucket is mapped onto the cumulative weight ranges of the experiment's variants
(in the order of the seed ``experiment_variants``): with weights 0.5 / 0.25 / 0.25,
buckets 0-4999 get the first variant, 5000-7499 the second and 7500-9999 the third.

``learner_id`` is hashed in one canonical form, the text SQL gives for the ``bigint`` of
the raw contract (``cast(learner_id as varchar)``: decimal digits, ``-`` when negative, no
leading zero). :func:`canonical_learner_id` turns what a caller passes into that integer: an
``int`` (numpy integers too) or a string of ASCII digits (an optional sign, surrounding
blanks and leading zeros allowed, so ``12``, ``"12"``, ``" 012 "`` are the same learner);
anything else (``bool``, ``float``, ``None``, ``"1.5"``, ``"1; drop"``, an id outside
the 64-bit range) is an :class:`~dataproducts.errors.InvalidArgumentError`.

>>> canonical_learner_id(" 012 ")
12
>>> bucket("completion-nudge-v1", "012") == bucket("completion-nudge-v1", 12)
True

>>> registry = Registry.from_seeds()
>>> registry.assign("exp_completion_nudge", 42) in {"control", "treatment"}
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .arguments import as_id, as_text
from .errors import InvalidArgumentError, RegistryError, UnknownExperimentError
from .paths import SEEDS_DIR, read_seed_rows

BUCKETS = 10_000


def canonical_learner_id(value: object, name: str = "learner_id") -> int:
    """The canonical learner id of ``value`` (see the module docstring), or
    :class:`InvalidArgumentError` saying what is accepted."""
    return as_id(value, name, text=True)


def bucket(salt: str, learner_id: int | str) -> int:
    """The allocation bucket (0-9999) of a learner under an experiment's salt."""
    key = f"{salt}-{canonical_learner_id(learner_id)}"
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % BUCKETS


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float
    is_control: bool


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    salt: str
    start_at: str
    end_at: str
    status: str
    primary_metric: str
    variants: tuple[Variant, ...]

    @property
    def control(self) -> str:
        return next(v.name for v in self.variants if v.is_control)

    def upper_bounds(self) -> list[int]:
        """Exclusive upper bucket bound of each variant, in seed order (last is 10000)."""
        bounds, cumulative = [], 0.0
        for v in self.variants:
            cumulative += v.weight
            bounds.append(round(cumulative * BUCKETS))
        bounds[-1] = BUCKETS
        return bounds

    def variant_for_bucket(self, b: int) -> str:
        for v, upper in zip(self.variants, self.upper_bounds(), strict=True):
            if b < upper:
                return v.name
        raise AssertionError("unreachable: the last bound is 10000")  # pragma: no cover

    def assign(self, learner_id: int | str) -> str:
        return self.variant_for_bucket(bucket(self.salt, learner_id))

    def assign_many(self, learner_ids: Iterable[int | str]) -> np.ndarray:
        """Variants of many learners at once (an object array, in input order)."""
        if isinstance(learner_ids, str | bytes | Mapping) or not isinstance(learner_ids, Iterable):
            raise InvalidArgumentError(
                f"learner_ids must be a list (or other iterable) of ids, got {learner_ids!r}"
            )
        ids = list(learner_ids)
        buckets = np.fromiter((bucket(self.salt, i) for i in ids), dtype=np.int64, count=len(ids))
        names = np.array([v.name for v in self.variants], dtype=object)
        return names[np.searchsorted(np.array(self.upper_bounds()), buckets, side="right")]


class Registry:
    """The experiment registry, read from the seeds that dbt also loads."""

    def __init__(self, experiments: Sequence[Experiment]):
        self.experiments = {e.experiment_id: e for e in experiments}

    @classmethod
    def from_seeds(cls, seeds_dir: Path | None = None) -> Registry:
        d = Path(seeds_dir or SEEDS_DIR) / "experiments"
        exps = read_seed_rows(d / "experiments.csv", "experiment registry", RegistryError)
        variants = read_seed_rows(
            d / "experiment_variants.csv", "experiment registry", RegistryError
        )
        by_exp: dict[str, list[Variant]] = {}
        for row in variants:
            by_exp.setdefault(row["experiment_id"], []).append(
                Variant(row["variant"], float(row["weight"]), row["is_control"].lower() == "true")
            )
        out = []
        for row in exps:
            vs = tuple(by_exp.get(row["experiment_id"], ()))
            total = sum(v.weight for v in vs)
            if not vs or abs(total - 1.0) > 1e-9:
                raise RegistryError(
                    f"experiment {row['experiment_id']!r}: variant weights sum to {total}, "
                    "not 1. Fix seeds/experiments/experiment_variants.csv."
                )
            if sum(v.is_control for v in vs) != 1:
                raise RegistryError(
                    f"experiment {row['experiment_id']!r} needs exactly one control variant "
                    "in seeds/experiments/experiment_variants.csv."
                )
            out.append(
                Experiment(
                    experiment_id=row["experiment_id"],
                    name=row["name"],
                    salt=row["salt"],
                    start_at=row["start_at"],
                    end_at=row["end_at"],
                    status=row["status"],
                    primary_metric=row["primary_metric"],
                    variants=vs,
                )
            )
        return cls(out)

    def __getitem__(self, experiment_id: str) -> Experiment:
        try:
            return self.experiments[as_text(experiment_id, "experiment_id")]
        except KeyError:
            known = ", ".join(sorted(self.experiments))
            raise UnknownExperimentError(
                f"unknown experiment {experiment_id!r}; the registry has: {known}"
            ) from None

    def assign(self, experiment_id: str, learner_id: int | str) -> str:
        """The variant of ``learner_id`` in ``experiment_id``."""
        return self[experiment_id].assign(learner_id)


_default: Registry | None = None


def assign(experiment_id: str, learner_id: int | str) -> str:
    """Variant of a learner in an experiment, by the registry in the repository's seeds."""
    global _default
    if _default is None:
        _default = Registry.from_seeds()
    return _default.assign(experiment_id, learner_id)
