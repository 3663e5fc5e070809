"""Strategic guidance: the rep's next best move, turning points and the simulated A/B test.

* :class:`ActTagger` maps turn text to dialogue acts (rep acts, customer acts).
* :class:`Advisor` learns Q(situation, rep act) offline (discrete CQL, d3rlpy) from logged
  conversations; :class:`Guide` turns a conversation prefix into a :class:`Guidance` (act,
  expected lift, text, examples); :func:`advise_within` keeps it off the probability's path.
* :func:`turning_points` finds the turns where P(sale) moved (PELT change points) and why.
* :mod:`~salesrl.guidance.online` (gymnasium + PPO) and :mod:`~salesrl.guidance.ab` (the
  simulated A/B test, ``salesrl simulate-ab``) measure what following the advice is worth.

Heavy dependencies (d3rlpy, stable-baselines3, ruptures) are imported only when used.
"""

from salesrl.guidance.advisor import Advisor, AdvisorConfig, Recommendation
from salesrl.guidance.examples import ExampleIndex
from salesrl.guidance.guide import Guidance, Guide, advise_within
from salesrl.guidance.logs import ActLog
from salesrl.guidance.tagger import ActTagger
from salesrl.guidance.text import guidance_text
from salesrl.guidance.turning_points import TurningPoint, turning_points

__all__ = [
    "ActLog", "ActTagger", "Advisor", "AdvisorConfig", "ExampleIndex", "Guidance", "Guide",
    "Recommendation", "TurningPoint", "advise_within", "guidance_text", "turning_points",
]
