"""A trained policy as numbers: the observation's specification and an MLP evaluated with
NumPy, so that serving a policy needs neither stable-baselines3 nor PyTorch.

Why an export rather than the SB3 zip: the zip holds pickles (loading one runs code), PyTorch
tensors and a timestamped archive, so its bytes change with every save and its content hash
says nothing; and it needs the ``rl`` extra (PyTorch, ~200 MB) in every trading process. The
policies trained here are small MLPs (SB3's ``MlpPolicy``: 2 × 64 units): their weights fit
in a JSON document whose bytes are a function of the weights only (the registry hashes them),
readable with any tool, and a forward pass in NumPy costs microseconds. The export keeps the
weights as PyTorch trained them (float32, exactly: each is written as the float64 it equals);
the forward pass runs in float64, so it matches SB3's float32 ``predict`` to ~1e-6 and its
action wherever two actions are not tied that closely (``tests/unit/rl/test_policy.py``).

The **observation** is the run's ``[features]`` row, in definition order, then the position's
weight (held quantity × price / equity), as float32. ``observation_hash`` identifies it: the
feature set's definition hash (definitions, lags, external series, the features' code
version), the feature names and the extra components. A policy is served only to a run whose
observation hashes the same.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Final

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError
from tradeloop.features.definitions import FeatureSetConfig

POLICY_FORMAT: Final = "tradeloop.rl.mlp/1"
ACTIVATIONS: Final = ("tanh", "relu")
OUTPUTS: Final = ("logits", "q_values")
EXTRA_OBSERVATIONS: Final = ("position_weight",)
OBSERVATION_VERSION: Final = "1"

F64 = npt.NDArray[np.float64]


def observation_names(features: FeatureSetConfig) -> list[str]:
    """Return the observation's components, in order: the features, then the extras."""
    return [*features.feature_names, *EXTRA_OBSERVATIONS]


def observation_hash(features: FeatureSetConfig) -> str:
    """Return the SHA-256 of the observation's specification (module docstring)."""
    spec = {
        "version": OBSERVATION_VERSION,
        "feature_hash": features.definition_hash(),
        "names": observation_names(features),
        "dtype": "float32",
    }
    return hashlib.sha256(msgspec.json.encode(spec, order="sorted")).hexdigest()


class Layer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One dense layer: ``weight`` is (outputs × inputs), as ``torch.nn.Linear`` keeps it."""

    weight: list[list[float]]
    bias: list[float]


class PolicyDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The artifact: what the policy observes, what its actions mean, and its layers."""

    format: str
    algorithm: str
    activation: str
    output: str
    observation_hash: str
    observation_names: list[str]
    actions: list[float]
    decision_every: int
    layers: list[Layer]


class MlpPolicy:
    """A feed-forward policy: ``activation`` after every layer but the last, whose outputs
    are one value per action (logits or Q-values); the action is their argmax (SB3's
    deterministic ``predict``)."""

    def __init__(self, document: PolicyDocument) -> None:
        where = f"policy ({document.algorithm})"
        if document.format != POLICY_FORMAT:
            raise DataIntegrityError(
                f"{where}: format {document.format!r} is not {POLICY_FORMAT!r}"
            )
        if document.activation not in ACTIVATIONS:
            raise DataIntegrityError(
                f"{where}: activation {document.activation!r} is not one of {ACTIVATIONS}"
            )
        if document.output not in OUTPUTS:
            raise DataIntegrityError(f"{where}: output {document.output!r} is not one of {OUTPUTS}")
        if not document.layers:
            raise DataIntegrityError(f"{where} has no layers")
        self.document = document
        self.weights: list[F64] = []
        self.biases: list[F64] = []
        width = len(document.observation_names)
        for index, layer in enumerate(document.layers):
            weight = np.array(layer.weight, dtype=np.float64)
            bias = np.array(layer.bias, dtype=np.float64)
            if weight.ndim != 2 or weight.shape[1] != width or bias.shape != (weight.shape[0],):
                raise DataIntegrityError(
                    f"{where}: layer {index} has weights {weight.shape} and bias {bias.shape}; "
                    f"it takes {width} inputs"
                )
            if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
                raise DataIntegrityError(f"{where}: layer {index} has a weight that is not finite")
            self.weights.append(weight)
            self.biases.append(bias)
            width = weight.shape[0]
        if width != len(document.actions):
            raise DataIntegrityError(
                f"{where}: the last layer has {width} outputs for {len(document.actions)} actions"
            )
        self._activation = np.tanh if document.activation == "tanh" else _relu

    @property
    def observation_size(self) -> int:
        """Return how many numbers the policy observes."""
        return len(self.document.observation_names)

    def values(self, observation: npt.ArrayLike) -> F64:
        """Return the last layer's outputs (one per action) for one observation.

        Raises
        ------
        ValueError
            If the observation does not have ``observation_size`` numbers.
        """
        x = np.asarray(observation, dtype=np.float32).astype(np.float64)
        if x.shape != (self.observation_size,):
            raise ValueError(
                f"observation of shape {x.shape}; the policy observes {self.observation_size} "
                f"numbers ({', '.join(self.document.observation_names)})"
            )
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = weight @ x + bias
            if index < last:
                x = self._activation(x)
        return x

    def act(self, observation: npt.ArrayLike) -> tuple[int, F64]:
        """Return the action (argmax, the first on a tie) and the outputs it was chosen from."""
        values = self.values(observation)
        return int(np.argmax(values)), values

    def attributions(
        self, observation: npt.ArrayLike, action: int, steps: int = 32
    ) -> tuple[float, F64]:
        """Return how each observed number moved the output of ``action``: integrated
        gradients from the all-zero observation (midpoint rule over ``steps``), and that
        output at the zero observation. The attributions add up to the output at
        ``observation`` less the baseline, up to the rule's error (exactly for one layer).
        """
        x = np.asarray(observation, dtype=np.float32).astype(np.float64)
        if x.shape != (self.observation_size,):
            raise ValueError(f"observation of shape {x.shape}; the policy observes {x.size}")
        alphas = (np.arange(steps, dtype=np.float64) + 0.5) / steps
        points = alphas[:, None] * x[None, :]
        derivatives = []
        last = len(self.weights) - 1
        h = points
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = h @ weight.T + bias
            if index < last:
                h = self._activation(z)
                derivatives.append(1.0 - h * h if self.document.activation == "tanh" else z > 0)
        gradient = np.broadcast_to(self.weights[-1][action], (steps, self.weights[-1].shape[1]))
        for index in range(last - 1, -1, -1):
            gradient = (gradient * derivatives[index]) @ self.weights[index]
        baseline = float(self.values(np.zeros(self.observation_size))[action])
        return baseline, x * gradient.mean(axis=0)

    def probabilities(self, values: F64) -> F64 | None:
        """Return the actions' probabilities (softmax of logits); None for Q-values."""
        if self.document.output != "logits":
            return None
        shifted = np.exp(values - values.max())
        return shifted / shifted.sum()  # type: ignore[no-any-return]

    def to_bytes(self) -> bytes:
        """Return the artifact: the document as JSON, keys sorted (the same weights give the
        same bytes)."""
        return msgspec.json.encode(self.document, order="sorted")

    @classmethod
    def from_bytes(cls, data: bytes) -> MlpPolicy:
        """Load an artifact written by ``to_bytes``.

        Raises
        ------
        DataIntegrityError
            If it is not a policy document or its layers do not fit together.
        """
        try:
            document = msgspec.json.decode(data, type=PolicyDocument)
        except msgspec.ValidationError as error:
            raise DataIntegrityError(
                f"the policy artifact is not a policy document: {error}"
            ) from None
        return cls(document)


def _relu(x: F64) -> F64:
    return np.maximum(x, 0.0)


def policy_document(
    *,
    algorithm: str,
    activation: str,
    output: str,
    features: FeatureSetConfig,
    actions: list[float],
    decision_every: int,
    layers: list[tuple[Any, Any]],
) -> PolicyDocument:
    """Return the document of a policy on ``features``' observation from its layers'
    ``(weight, bias)`` arrays (weights as outputs × inputs), each value kept exactly."""
    return PolicyDocument(
        format=POLICY_FORMAT,
        algorithm=algorithm,
        activation=activation,
        output=output,
        observation_hash=observation_hash(features),
        observation_names=observation_names(features),
        actions=[float(a) for a in actions],
        decision_every=decision_every,
        layers=[
            Layer(
                weight=[[_exact(v) for v in row] for row in np.asarray(weight).tolist()],
                bias=[_exact(v) for v in np.asarray(bias).tolist()],
            )
            for weight, bias in layers
        ],
    )


def _exact(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise DataIntegrityError(f"a policy weight is {number}; weights must be finite")
    return number
