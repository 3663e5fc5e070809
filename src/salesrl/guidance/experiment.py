"""The whole simulated A/B experiment: log control calls, learn offline, compare arms.

1. Log ``n_logged`` calls of the control reps (acts and outcomes only, as a CRM would).
2. Fit the offline advisor (discrete CQL) on that log alone.
3. Train the online reference (PPO playing the rep against the simulator, same adherence).
4. Run control, advisor and PPO arms of ``n`` fresh calls each; report rates, the relative
   uplift with its 95 % interval, and the exact hidden-state ceiling for context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from salesrl.guidance.ab import (
    exact_control_rate,
    hidden_state_ceiling,
    relative_uplift,
    run_arm,
)
from salesrl.guidance.advisor import Advisor, AdvisorConfig
from salesrl.guidance.logs import ActLog
from salesrl.guidance.online import ppo_chooser, train_ppo
from salesrl.synth.simulate import Simulator

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ABSettings:
    """Sizes of the experiment (defaults: the issue's 20,000 calls per arm)."""

    n: int = 20_000
    adherence: float = 0.7
    seed: int = 0
    n_logged: int = 200_000
    advisor_steps: int = 8000
    ppo_steps: int = 1_500_000  # converged: 1M and 3M steps reach the same uplift

    def check(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if not 0.0 <= self.adherence <= 1.0:
            raise ValueError(f"adherence must be in [0, 1], got {self.adherence}")
        if self.seed < 0:
            raise ValueError(f"seed must be 0 or more, got {self.seed}")
        if self.n_logged < 10 or self.advisor_steps < 1 or self.ppo_steps < 1:
            raise ValueError("n_logged must be at least 10 and the step counts at least 1")


def run_experiment(settings: ABSettings, progress: Progress | None = None,
                   advisor_out: str | None = None) -> dict:
    """Run the experiment; returns the JSON-ready result (contract keys first)."""
    settings.check()
    tick: Progress = progress or (lambda stage, done, total: None)
    t0 = time.perf_counter()
    sim = Simulator()
    log_ss, ppo_ss, control_ss, advisor_ss, ppo_arm_ss = np.random.SeedSequence(
        settings.seed).spawn(5)

    batch = sim.run(np.random.default_rng(log_ss), settings.n_logged)
    log = ActLog.from_sim(batch.rep_acts, batch.customer_acts, batch.n_exchanges,
                          batch.converted)
    tick("logging control calls", settings.n_logged, settings.n_logged)

    config = AdvisorConfig(n_steps=settings.advisor_steps, seed=settings.seed)
    advisor = Advisor(config).fit(
        log, on_step=lambda s: tick("offline CQL advisor", s, settings.advisor_steps))
    if advisor_out:
        advisor.save(advisor_out)

    ppo_seed = int(ppo_ss.generate_state(1)[0] % (2**31))
    ppo = train_ppo(settings.adherence, settings.ppo_steps, seed=ppo_seed,
                    on_step=lambda s: tick("online PPO reference", s, settings.ppo_steps))

    def arm(name: str, ss: np.random.SeedSequence, chooser: object | None) -> object:
        return run_arm(sim, np.random.default_rng(ss), settings.n, chooser,  # type: ignore[arg-type]
                       settings.adherence if chooser is not None else 0.0,
                       on_progress=lambda d: tick(name, d, settings.n))

    control = arm("control arm", control_ss, None)
    treatment = arm("advisor arm", advisor_ss, lambda o, k: advisor.choose(o, k)[0])
    ppo_arm = arm("PPO arm", ppo_arm_ss, ppo_chooser(ppo))
    uplift, ci = relative_uplift(control, treatment)  # type: ignore[arg-type]
    ppo_uplift, ppo_ci = relative_uplift(control, ppo_arm)  # type: ignore[arg-type]
    exact = exact_control_rate(sim)
    ceiling = hidden_state_ceiling(sim, settings.adherence)
    return {
        "control_rate": control.rate,  # type: ignore[attr-defined]
        "treatment_rate": treatment.rate,  # type: ignore[attr-defined]
        "relative_uplift": uplift,
        "uplift_ci": list(ci),
        "ppo_relative_uplift": ppo_uplift,
        "ppo_rate": ppo_arm.rate,  # type: ignore[attr-defined]
        "ppo_uplift_ci": list(ppo_ci),
        "fraction_of_ppo_uplift": (uplift / ppo_uplift if ppo_uplift > 0 else None),
        "n_per_arm": settings.n,
        "exact_control_rate": exact,
        "hidden_state_ceiling_rate": ceiling,
        "hidden_state_ceiling_relative_uplift": ceiling / exact - 1.0,
        "settings": asdict(settings),
        "space": "acts (no text: in production the tagger maps text to acts)",
        "seconds": time.perf_counter() - t0,
    }
