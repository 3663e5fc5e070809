"""salesrl: a chess engine for sales conversations.

Reads a conversation turn by turn and says, after every turn, the probability that it ends in a
sale. Start with :mod:`salesrl.conversation` (the one schema) and the ``salesrl`` command line.
"""

from salesrl.conversation import Conversation, Outcome, Role, Turn, read_jsonl, write_jsonl

__version__ = "0.1.0"

__all__ = ["Conversation", "Outcome", "Role", "Turn", "__version__", "read_jsonl", "write_jsonl"]
