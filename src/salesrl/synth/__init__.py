"""Offline synthetic sales conversations from a latent-state simulator.

Each call has a hidden customer (need, budget fit, authority, urgency, and an interest/trust
level moved by the rep's acts) and a rep with a skill profile; dialogue acts follow SPIN
selling (Rackham, 1988); text is realised from templates. Every turn carries the act label and
two exact reference probabilities: the oracle (true hidden state) and the Bayes observer (acts
only, by HMM forward filtering; Rabiner, 1989).

    >>> from salesrl.synth import generate
    >>> conversations = generate(100, seed=0)
"""

from salesrl.synth.config import SimulatorConfig
from salesrl.synth.customer import CustomerSimulator, HiddenState
from salesrl.synth.generator import (
    GenerationStats,
    generate,
    generate_to_jsonl,
    iter_generate,
    iter_records,
    simulator_for,
)
from salesrl.synth.industries import Industry, load_industries
from salesrl.synth.latent import LatentModel, build_latent_model
from salesrl.synth.policy import RepPolicy
from salesrl.synth.reference import ForwardFilter, ReferenceTables, build_reference
from salesrl.synth.simulate import SimBatch, Simulator

__all__ = [
    "CustomerSimulator", "ForwardFilter", "GenerationStats", "HiddenState", "Industry",
    "LatentModel", "ReferenceTables", "RepPolicy", "SimBatch", "Simulator", "SimulatorConfig",
    "build_latent_model", "build_reference", "generate", "generate_to_jsonl", "iter_generate",
    "iter_records", "load_industries", "simulator_for",
]
