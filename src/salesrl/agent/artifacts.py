"""Saving and loading a trained agent: safetensors weights + one JSON file. Never pickle.

An artifact is a directory::

    agent.json            layout, train config, calibration, per-member prior offsets,
                          retrieval / lexical / compressor / linear-base / context-prior
                          params (the last three absent in artifacts saved before they
                          existed),
                          embedding backend name and dim, library versions
    weights.safetensors   member{k}.<param> for every ensemble member,
                          retrieval.<array> for the retrieval index, lexical.<array>,
                          compressor.<array>, linear.<array>, context.<array>

SB3's ``.zip`` format pickles parts of the model, so it is never written: the actor weights
are copied out of the SB3 policy into a plain :class:`~salesrl.agent.networks.PolicyNet` and
saved from there. Loading needs torch, numpy and safetensors only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from salesrl.agent.calibration import Calibrator
from salesrl.agent.compress import RowCompressor
from salesrl.agent.config import TrainConfig
from salesrl.agent.context import ContextPrior
from salesrl.agent.data import ObsLayout
from salesrl.agent.lexical import LexicalEvidence
from salesrl.agent.linear import LinearBase
from salesrl.agent.networks import PolicyNet
from salesrl.agent.retrieval import RetrievalIndex

FORMAT = "salesrl-agent"
FORMAT_VERSION = 1
CONFIG_FILE = "agent.json"
WEIGHTS_FILE = "weights.safetensors"


class IncompatibleArtifactError(ValueError):
    """The artifact was made for another embedding backend / dimension (or format)."""


@dataclass
class AgentArtifact:
    """Everything a :class:`~salesrl.agent.model.ConversionAgent` needs to predict."""

    input_layout: ObsLayout
    layout: ObsLayout
    config: TrainConfig
    members: list[PolicyNet]
    calibrator: Calibrator
    offsets: np.ndarray
    retrieval: RetrievalIndex | None
    embedding_backend: str
    embedding_dim: int
    extra: dict[str, Any]
    lexical: LexicalEvidence | None = None
    compressor: RowCompressor | None = None
    linear: LinearBase | None = None
    context: ContextPrior | None = None


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("salesrl", "torch", "numpy", "safetensors", "stable-baselines3", "gymnasium"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def save_agent(art: AgentArtifact, path: str | Path) -> Path:
    """Write ``art`` to the directory ``path`` (created if needed); returns the directory."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for k, m in enumerate(art.members):
        for name, t in m.state_dict().items():
            tensors[f"member{k}.{name}"] = t.detach().cpu().contiguous().clone()
    if art.retrieval is not None:
        for name, a in art.retrieval.to_arrays().items():
            tensors[f"retrieval.{name}"] = torch.from_numpy(np.ascontiguousarray(a).copy())
    for part, obj in (("lexical", art.lexical), ("compressor", art.compressor),
                      ("linear", art.linear), ("context", art.context)):
        if obj is not None:
            for name, a in obj.to_arrays().items():
                tensors[f"{part}.{name}"] = torch.from_numpy(np.ascontiguousarray(a).copy())
    save_file(tensors, str(path / WEIGHTS_FILE), metadata={"format": FORMAT,
                                                           "format_version": str(FORMAT_VERSION)})
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedding": {"backend": art.embedding_backend, "dim": int(art.embedding_dim)},
        "input_layout": art.input_layout.to_dict(),
        "layout": art.layout.to_dict(),
        "ensemble": {"size": len(art.members), "combine": art.config.ensemble_combine},
        "calibration": art.calibrator.to_dict(),
        "member_offsets": [float(v) for v in art.offsets],
        "retrieval": art.retrieval.params() if art.retrieval is not None else None,
        "lexical": art.lexical.params() if art.lexical is not None else None,
        "compressor": art.compressor.params() if art.compressor is not None else None,
        "linear": art.linear.params() if art.linear is not None else None,
        "context": art.context.params() if art.context is not None else None,
        "train_config": art.config.to_dict(),
        "versions": _versions(),
        "extra": art.extra,
    }
    (path / CONFIG_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
    return path


def read_config(path: str | Path) -> dict[str, Any]:
    """The JSON half of an artifact."""
    path = Path(path)
    cfg_path = path / CONFIG_FILE
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path}: no agent artifact here (expected {CONFIG_FILE} "
                                f"and {WEIGHTS_FILE})")
    doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    if doc.get("format") != FORMAT:
        raise IncompatibleArtifactError(f"{cfg_path}: not a salesrl agent artifact")
    if int(doc.get("format_version", -1)) > FORMAT_VERSION:
        raise IncompatibleArtifactError(
            f"{cfg_path}: artifact format {doc.get('format_version')} is newer than this "
            f"salesrl understands ({FORMAT_VERSION}); upgrade salesrl")
    return doc


def check_embedding(doc: dict[str, Any], backend: str | None, dim: int | None,
                    where: str = "agent artifact") -> None:
    """Raise :class:`IncompatibleArtifactError` when the caller's embedding differs."""
    emb = doc.get("embedding", {})
    a_backend, a_dim = emb.get("backend"), emb.get("dim")
    if (backend is not None and backend != a_backend) or (dim is not None and dim != a_dim):
        raise IncompatibleArtifactError(
            f"{where} was trained on embedding backend {a_backend!r} (dim {a_dim}), but this "
            f"pipeline uses {backend if backend is not None else a_backend!r} "
            f"(dim {dim if dim is not None else a_dim}); retrain the agent with this backend "
            f"or switch back to {a_backend!r}")


def load_agent(path: str | Path, *, embedding_backend: str | None = None,
               embedding_dim: int | None = None) -> AgentArtifact:
    """Read an artifact written by :func:`save_agent`, checking the embedding backend."""
    path = Path(path)
    doc = read_config(path)
    check_embedding(doc, embedding_backend, embedding_dim, where=f"agent artifact {path}")
    cfg = TrainConfig.from_dict(doc["train_config"])
    layout = ObsLayout.from_dict(doc["layout"])
    tensors = load_file(str(path / WEIGHTS_FILE))
    members = []
    for k in range(int(doc["ensemble"]["size"])):
        prefix = f"member{k}."
        sd = {n[len(prefix):]: t for n, t in tensors.items() if n.startswith(prefix)}
        m = cfg.make_actor(layout)
        m.load_state_dict(sd, strict=True)
        m.eval()
        members.append(m)
    retrieval = None
    if doc.get("retrieval"):
        arrays = {n[len("retrieval."):]: t.numpy() for n, t in tensors.items()
                  if n.startswith("retrieval.")}
        retrieval = RetrievalIndex.from_arrays(doc["retrieval"], arrays)
    parts: dict[str, Any] = {}
    for part, cls in (("lexical", LexicalEvidence), ("compressor", RowCompressor),
                      ("linear", LinearBase), ("context", ContextPrior)):
        parts[part] = None
        if doc.get(part):
            arrays = {n[len(part) + 1:]: t.numpy() for n, t in tensors.items()
                      if n.startswith(f"{part}.")}
            parts[part] = cls.from_arrays(doc[part], arrays)
    return AgentArtifact(ObsLayout.from_dict(doc["input_layout"]), layout, cfg, members,
                         Calibrator.from_dict(doc["calibration"]),
                         np.asarray(doc["member_offsets"], dtype=np.float64),
                         retrieval, doc["embedding"]["backend"], int(doc["embedding"]["dim"]),
                         dict(doc.get("extra", {})), parts["lexical"], parts["compressor"],
                         parts["linear"], parts["context"])
