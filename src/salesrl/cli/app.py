"""The typer application every command module registers itself on."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import typer
from rich.console import Console

from salesrl.conversation import DataError
from salesrl.features.embeddings import EmbeddingError

app = typer.Typer(
    name="salesrl",
    help="A chess engine for sales conversations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: width of output that goes to a file or a pipe (a CI log, ``| less``) when ``COLUMNS`` is
#: unset: rich would assume 80, which folds the turn table's words mid-way ("closin g").
PIPED_WIDTH = 160


def make_console(stderr: bool = False) -> Console:
    """A rich console as wide as the terminal, ``COLUMNS``, or :data:`PIPED_WIDTH` when the
    output is not a terminal and ``COLUMNS`` is unset."""
    out = Console(stderr=stderr)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out.width = PIPED_WIDTH
    return out


console = make_console()
err_console = make_console(stderr=True)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad-input errors into one clear line on stderr and exit code 2, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (DataError, EmbeddingError, FileNotFoundError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(2)

    return wrapper


def limit_thread_pools(threads: int | None = None) -> int:
    """Size the OpenMP and BLAS thread pools (torch's, numpy's, scikit-learn's) for turn-by-turn
    work; return torch's thread count in force.

    ``threads`` given: use it. Otherwise keep what ``OMP_NUM_THREADS`` asked for, and when it
    is unset use one thread: the pools are sized to the cores, and on one turn's arrays they
    spin more than they help (BENCHMARKS.md, session 11: a server spent 14 ms of CPU per cached
    append with the default pools, 6 ms with one thread each; a live session 8.0 against 3.8 ms
    per turn). ``threadpoolctl`` (scikit-learn's dependency) reaches the pools of libraries
    already loaded, so they are imported first; onnxruntime's threads are the embedding
    backend's own setting. ``salesrl train`` and ``evaluate`` keep the defaults.
    """
    import numpy  # noqa: F401 - loads OpenBLAS before the pools are limited
    import sklearn.linear_model  # noqa: F401 - loads its OpenMP runtime
    import torch
    from threadpoolctl import threadpool_limits

    if threads is not None:
        if threads < 1:
            raise DataError(f"must be at least 1, got {threads}", field="--torch-threads")
    elif not os.environ.get("OMP_NUM_THREADS"):
        threads = 1
    if threads is not None:
        threadpool_limits(threads)
        torch.set_num_threads(threads)
    return torch.get_num_threads()


@app.callback()
def _root() -> None:
    """salesrl: turn-by-turn conversion probability for sales conversations."""
    # A callback keeps typer in group mode even when only one command is registered.


@contextmanager
def warnings_as_lines(category: type[Warning]) -> Iterator[None]:
    """Show each ``category`` warning raised inside as one yellow ``warning:`` line on stderr
    (the user's data or model, not a code location); other warnings go on as usual."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield
    for w in caught:
        if issubclass(w.category, category):
            err_console.print(f"[bold yellow]warning:[/] {w.message}", highlight=False,
                              soft_wrap=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
