"""salesrl: a chess engine for sales conversations.

Reads a conversation turn by turn and says, after every turn, the probability that it ends in a
sale. Start with :mod:`salesrl.conversation` (the one schema), ``salesrl.load()`` (the trained
agent: ``predict`` and live ``session``) and the ``salesrl`` command line.
"""

from typing import Any

from salesrl.conversation import Conversation, Outcome, Role, Turn, read_jsonl, write_jsonl

__version__ = "0.1.0"

__all__ = ["Conversation", "Outcome", "Role", "Turn", "__version__", "load", "read_jsonl",
           "write_jsonl"]


def __getattr__(name: str) -> Any:
    # ``load`` pulls in torch; resolve it on first use so ``import salesrl`` stays light.
    if name == "load":
        from salesrl.agent.api import load

        return load
    raise AttributeError(f"module 'salesrl' has no attribute {name!r}")
