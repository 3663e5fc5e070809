"""``bench_service.py`` with a fresh text on every append (embedding-cache misses).

    .venv/bin/python bench/bench_service_fresh.py --engine agent [bench_service.py options]

``bench_service.py`` cycles six fixed lines, so after warm-up every embedding comes from the
SQLite cache and MiniLM never runs per request. This wrapper makes each append's text unique
(the line plus a request number) and points ``SALESRL_CACHE_DIR`` at a fresh folder (linking
the derived models of the old one), so every append embeds its text, as in a real call.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_service  # noqa: E402


class FreshLines:
    """Looks like ``bench_service.LINES`` but never returns the same text twice."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines
        self.counter = itertools.count()

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i: int) -> tuple[str, str]:
        role, text = self.lines[i % len(self.lines)]
        return role, f"{text} (request {next(self.counter)})"


if __name__ == "__main__":
    fresh = Path(tempfile.mkdtemp(prefix="salesrl-bench-cache-"))
    models = Path(os.environ.get("SALESRL_CACHE_DIR") or Path.home() / ".cache" / "salesrl")
    if (models / "models").is_dir():  # reuse derived embedding models, not cached embeddings
        (fresh / "models").symlink_to((models / "models").resolve())
    os.environ["SALESRL_CACHE_DIR"] = str(fresh)
    bench_service.LINES = FreshLines(list(bench_service.LINES))  # type: ignore[assignment]
    bench_service.main()
