"""The conversation schema, its JSONL format and the shared act vocabulary."""

from salesrl.conversation.acts import OBJECTION_ACTS, SPIN_ACTS, CustomerAct, RepAct
from salesrl.conversation.io import (
    DataError,
    iter_jsonl,
    parse_conversation,
    read_jsonl,
    write_jsonl,
)
from salesrl.conversation.schema import (
    Conversation,
    Metadata,
    Outcome,
    Role,
    Turn,
    TurnAnnotations,
)

__all__ = [
    "OBJECTION_ACTS",
    "SPIN_ACTS",
    "Conversation",
    "CustomerAct",
    "DataError",
    "Metadata",
    "Outcome",
    "RepAct",
    "Role",
    "Turn",
    "TurnAnnotations",
    "iter_jsonl",
    "parse_conversation",
    "read_jsonl",
    "write_jsonl",
]
