"""The RL agent (:mod:`salesrl.agent`) as a registered model: ``salesrl evaluate --model agent``.

:class:`~salesrl.agent.predictor.AgentPredictor` over the rows of the shared state builder
(:func:`salesrl.evaluation.baselines.state_lr.default_builder`: ``$SALESRL_EMBEDDING_BACKEND``,
default ``minilm``, disk-cached) plus the cross-fitted lexical-evidence column
(:mod:`salesrl.agent.lexical`) and the cross-fitted context prior of the call's metadata
(:mod:`salesrl.agent.context`; left out when the metadata hold nothing to learn from),
trained inside each fold with ``TrainConfig.preset("fast")``,
narrowed to the ``small`` preset's regularisation below 5,000 training conversations (which
includes ``linear_base``: the network models the residual of a cross-fitted linear logit,
:mod:`salesrl.agent.linear`) and given the ``large`` preset's fixed training budget from
10,000 on (``salesrl.agent.predictor.LARGE_DATA``).
torch and the agent are imported only when the model is built.
"""

from __future__ import annotations

from salesrl.evaluation.baselines.state_lr import default_builder
from salesrl.evaluation.predictor import ConversionPredictor, register


@register("agent", "the SalesRL agent (warm start + conservative PPO ensemble, 'small' / "
          "'fast' / 'large' preset by data size) on the turn-by-turn state rows + lexical "
          "evidence + metadata prior; trains in each fold")
def make_agent() -> ConversionPredictor:
    """A fresh, unfitted :class:`AgentPredictor` on :func:`default_builder`'s rows."""
    from salesrl.agent import TrainConfig
    from salesrl.agent.predictor import AgentPredictor

    builder = default_builder()
    return AgentPredictor(builder.encode, builder.layout, TrainConfig.preset("fast"),
                          embedding_backend=builder.backend_name,
                          embedding_dim=builder.embedding_dim, encode_many=builder.encode_many,
                          lexical=True, small_data=True, context=True)
