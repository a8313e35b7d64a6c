"""The model registry, embedded in the store beside the materialized features.

Why not MLflow's registry: it needs a database-backed tracking store (its file store has no
registry), brings a server stack (Flask, SQLAlchemy, alembic) into a trading process, and
identifies runs by random ids and wall-clock times, where tradeloop identifies everything
by content so that a replay gives the same ids. What a registry must hold — versions,
artifacts with content hashes, the training window, the feature-set hash, metrics, a stage
— fits in a few JSON files next to the data, readable with any tool, and needs no service.

Layout under the store root::

    models/<name>/<version>/<artifact>      model.txt (LightGBM), model.json (linear) or
                                            policy.json (an RL policy, ``rl.register``)
    models/<name>/<version>/card.json       ModelCard: hashes, window, features, metrics
    models/<name>/<version>/drift.json      DriftReference: the window's distributions
    models/<name>/stages.json               {"production": 2, "staging": 3}

Versions are 1, 2, … in registration order and never change once written. ``promote``
moves a version to a stage (the version that held it is archived); the stage file is
rewritten atomically and is the only file the registry ever rewrites.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Final

import msgspec

from tradeloop.analytics.drift import Reference
from tradeloop.core.errors import ConfigError, DataIntegrityError

STAGES: Final = ("staging", "production")
DRIFT_FILE: Final = "drift.json"


class DriftReference(msgspec.Struct, frozen=True, kw_only=True):
    """The training window's distribution of each feature and of the model's prediction
    (``analytics.drift.Reference``), which live values are compared with (drift)."""

    features: dict[str, Reference]
    prediction: Reference


class ModelCard(msgspec.Struct, frozen=True, kw_only=True):
    """What a registered model version is and how it was made."""

    name: str
    version: int
    kind: str
    artifact: str
    artifact_hash: str
    feature_set: str
    feature_hash: str
    feature_names: list[str]
    definitions: Any  # the feature set's definitions and external series, as trained on
    label: Any
    instruments: list[str]
    fit_start_ns: int
    fit_end_ns: int
    rows: int
    data_hashes: dict[str, str]
    metrics: dict[str, float]
    params: dict[str, Any]
    label_scale: float
    config_hash: str
    code_version: str
    drift_hash: str = ""  # SHA-256 of drift.json ("": registered without a drift reference)
    observation_hash: str = ""
    """A policy's observation specification (``rl.policy.observation_hash``); empty for the
    supervised kinds, whose inputs are ``feature_names``."""


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class ModelRegistry:
    """The registry under ``root`` (the store directory)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.models_dir = self.root / "models"

    def names(self) -> list[str]:
        """Return the registered model names, sorted."""
        if not self.models_dir.is_dir():
            return []
        return sorted(p.name for p in self.models_dir.iterdir() if p.is_dir())

    def versions(self, name: str) -> list[int]:
        """Return the versions of ``name``, ascending."""
        folder = self.models_dir / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def stages(self, name: str) -> dict[str, int]:
        """Return which version holds each stage."""
        path = self.models_dir / name / "stages.json"
        if not path.is_file():
            return {}
        return msgspec.json.decode(path.read_bytes(), type=dict[str, int])

    def stage_of(self, name: str, version: int) -> str:
        """Return the stage of one version (``none`` when it holds none)."""
        for stage, holder in sorted(self.stages(name).items()):
            if holder == version:
                return stage
        return "none"

    def register(
        self, card: ModelCard, artifact: bytes, drift: DriftReference | None = None
    ) -> ModelCard:
        """Write a new version of ``card.name`` (its version number assigned here) with its
        artifact and its drift reference, and put it in staging."""
        version = max(self.versions(card.name), default=0) + 1
        folder = self.models_dir / card.name / str(version)
        if folder.exists():
            raise ConfigError(f"{folder} exists already; the registry never overwrites a version")
        reference = b"" if drift is None else msgspec.json.encode(drift, order="sorted")
        card = msgspec.structs.replace(
            card,
            version=version,
            artifact_hash=hashlib.sha256(artifact).hexdigest(),
            drift_hash=hashlib.sha256(reference).hexdigest() if reference else "",
        )
        _atomic_write(folder / card.artifact, artifact)
        if reference:
            _atomic_write(folder / DRIFT_FILE, reference)
        _atomic_write(folder / "card.json", msgspec.json.format(msgspec.json.encode(card)))
        self._set_stage(card.name, version, "staging")
        return card

    def _set_stage(self, name: str, version: int, stage: str) -> None:
        stages = self.stages(name)
        stages[stage] = version
        for other in STAGES:  # a version holds one stage at a time
            if other != stage and stages.get(other) == version:
                del stages[other]
        _atomic_write(
            self.models_dir / name / "stages.json", msgspec.json.encode(stages, order="sorted")
        )

    def promote(self, name: str, version: int, stage: str = "production") -> ModelCard:
        """Move ``version`` of ``name`` to ``stage``.

        Raises
        ------
        ConfigError
            If the model, the version or the stage is unknown.
        """
        if stage not in STAGES:
            raise ConfigError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
        card = self.card(name, version)
        self._set_stage(name, version, stage)
        return card

    def resolve(self, name: str, version: int | str) -> int:
        """Return the version number ``version`` names: a number, ``latest`` or a stage.

        Raises
        ------
        ConfigError
            If nothing matches.
        """
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise ConfigError(
                f"model {name!r} is not in the registry at {self.root} (models: {known}); "
                "train it with `tradeloop models train CONFIG`"
            )
        if isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
            number = int(version)
            if number not in versions:
                raise ConfigError(f"model {name} has no version {number}; versions: {versions}")
            return number
        if version == "latest":
            return versions[-1]
        stages = self.stages(name)
        if version not in STAGES:
            raise ConfigError(
                f"model version {version!r} must be a number, latest, staging or production"
            )
        if version not in stages:
            raise ConfigError(
                f"model {name} has no version in {version} (stages: {stages or 'none'}); "
                f"promote one with `tradeloop models promote {name} VERSION`"
            )
        return stages[version]

    def card(self, name: str, version: int | str) -> ModelCard:
        """Return the card of one version."""
        number = self.resolve(name, version)
        path = self.models_dir / name / str(number) / "card.json"
        return msgspec.json.decode(path.read_bytes(), type=ModelCard)

    def artifact(self, card: ModelCard) -> bytes:
        """Return a version's artifact, checked against its content hash.

        Raises
        ------
        DataIntegrityError
            If the artifact is missing or its SHA-256 differs from the card's.
        """
        path = self.models_dir / card.name / str(card.version) / card.artifact
        if not path.is_file():
            raise DataIntegrityError(f"model {card.name} v{card.version}: {path} is missing")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != card.artifact_hash:
            raise DataIntegrityError(
                f"model {card.name} v{card.version}: artifact {path} has SHA-256 "
                f"{digest[:16]}…, the registry recorded {card.artifact_hash[:16]}… (the file "
                "changed after registration); nothing runs with it"
            )
        return data

    def drift_reference(self, card: ModelCard) -> DriftReference | None:
        """Return a version's drift reference, checked against its content hash (None when it
        was registered without one).

        Raises
        ------
        DataIntegrityError
            If the file is missing or its SHA-256 differs from the card's.
        """
        if not card.drift_hash:
            return None
        path = self.models_dir / card.name / str(card.version) / DRIFT_FILE
        if not path.is_file():
            raise DataIntegrityError(f"model {card.name} v{card.version}: {path} is missing")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != card.drift_hash:
            raise DataIntegrityError(
                f"model {card.name} v{card.version}: drift reference {path} has SHA-256 "
                f"{digest[:16]}…, the registry recorded {card.drift_hash[:16]}… (the file "
                "changed after registration)"
            )
        return msgspec.json.decode(data, type=DriftReference)
