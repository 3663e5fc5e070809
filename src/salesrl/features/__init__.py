"""Turn-level features: text embeddings, conversation signals and the turn-by-turn state.

:class:`StateBuilder` / :class:`ConversationState` (:mod:`salesrl.features.tracker`) turn every
prefix of a conversation into the observation row the agent reads.
"""

from salesrl.features.tracker import (
    BACKEND_ENV,
    CACHE_DIR_ENV,
    ConversationState,
    StateBuilder,
    StateConfig,
    default_cache_path,
)

__all__ = ["BACKEND_ENV", "CACHE_DIR_ENV", "ConversationState", "StateBuilder", "StateConfig",
           "default_cache_path"]
