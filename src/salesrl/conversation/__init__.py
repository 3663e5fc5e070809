"""The conversation schema and its JSONL format."""

from salesrl.conversation.acts import OBJECTION_ACTS, SPIN_ACTS, CustomerAct, RepAct
from salesrl.conversation.io import DataError, iter_jsonl, parse_conversation, read_jsonl, write_jsonl
from salesrl.conversation.schema import (
    Conversation,
    Metadata,
    Outcome,
    Role,
    Turn,
    TurnAnnotations,
)

__all__ = [
    "OBJECTION_ACTS", "SPIN_ACTS", "Conversation", "CustomerAct", "DataError", "RepAct", "Metadata", "Outcome", "Role", "Turn", "TurnAnnotations",
    "iter_jsonl", "parse_conversation", "read_jsonl", "write_jsonl",
]
