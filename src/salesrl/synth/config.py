"""Settings of the synthetic conversation simulator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulatorConfig:
    """Knobs of :func:`salesrl.synth.generate`.

    The latent model (and so the conversion rate, the length distribution and the reference
    probabilities) depends only on ``max_exchanges`` and ``n_reps``; the other fields change
    the surface text and timing. ``batch_size`` is part of the seed contract: the same seed and
    batch size give byte-identical output, and the first ``n`` conversations of a larger run
    are the ``n`` conversations of a smaller one.
    """

    #: conversations simulated in lockstep per numpy batch
    batch_size: int = 1024
    #: rep/customer exchanges at most; a conversation has 2 * exchanges (+1 wrap-up) turns
    max_exchanges: int = 13
    #: size of the sales team; each rep has a fixed skill profile (a prior over skill 0..2)
    n_reps: int = 40
    #: chance that a turn carries a typo (doubled on the chat channel)
    typo_rate: float = 0.04
    #: chance that a customer turn carries an off-topic aside
    offtopic_rate: float = 0.05
    #: chance that a customer turn mixes signals (a hedge on a positive act, warmth on a
    #: negative one)
    mixed_signal_rate: float = 0.25
    #: share of conversations written without turn times (chat logs, emails and transcripts
    #: often have none); chosen per conversation from (seed, index), so the text is unchanged
    untimed_share: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 2 <= self.max_exchanges <= 40:
            raise ValueError(f"max_exchanges must be in 2..40, got {self.max_exchanges}")
        if self.n_reps < 1:
            raise ValueError(f"n_reps must be at least 1, got {self.n_reps}")
        for name in ("typo_rate", "offtopic_rate", "mixed_signal_rate", "untimed_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
