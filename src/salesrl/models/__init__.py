"""Models shipped inside the package; :data:`DEFAULT_MODEL_DIR` is what ``salesrl.load()``
reads when given no path (rebuilt by ``bench/train_default_model.sh``, see its README.md)."""

from pathlib import Path

#: the default agent: ``salesrl train --preset default`` on synthetic data, MiniLM embeddings
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"

__all__ = ["DEFAULT_MODEL_DIR"]
