"""The reinforcement-learning core: an agent that outputs P(sale) after every turn.

It trains on precomputed state sequences (:class:`Episodes`, rows laid out by
:class:`ObsLayout`) with the SalesRLAgent recipe (:mod:`salesrl.agent.training`) and predicts
with :class:`ConversionAgent`. stable-baselines3 is imported only while training with PPO.
"""

from salesrl.agent.config import TrainConfig
from salesrl.agent.data import Episodes, ObsLayout
from salesrl.agent.model import ConversionAgent

__all__ = ["ConversionAgent", "Episodes", "ObsLayout", "TrainConfig"]
