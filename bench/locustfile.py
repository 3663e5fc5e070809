"""Locust load profile for the real-time service (an alternative to bench_service.py).

Locust is not a dependency of salesrl; install it in its own environment and run it as its own
process (importing locust after ``requests`` in one process fails, so never import this file
from the test suite or from bench_service.py)::

    salesrl keys create --tenant load --db load.db      # copy the key
    salesrl serve --db load.db &
    SALESRL_API_KEY=slr_... locust -f bench/locustfile.py --headless -u 8 -r 8 -t 30s \\
        --host http://127.0.0.1:8000 --csv load

Each simulated user opens its own conversation and appends turns to it back to back.
"""

from __future__ import annotations

import os
from itertools import cycle

from locust import FastHttpUser, task

LINES = [("rep", "Hi, thanks for taking the time today. How is your team handling this now?"),
         ("customer", "We use spreadsheets, honestly. What does your tool cost?"),
         ("rep", "It is $20 per seat per month, and most teams see the value in a week."),
         ("customer", "Hmm, that sounds a bit too expensive for us right now."),
         ("rep", "We could start with a pilot for your team of five."),
         ("customer", "OK, sounds good. Send me the contract and we'll go ahead.")]


class SalesCall(FastHttpUser):
    """One live conversation per user; every task appends one turn."""

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {os.environ['SALESRL_API_KEY']}"}
        r = self.client.post("/v1/conversations", json={"metadata": {"rep_id": "locust"}},
                             headers=self.headers)
        self.conv = r.json()["id"]
        self.lines = cycle(LINES)

    @task
    def append_turn(self) -> None:
        role, text = next(self.lines)
        self.client.post(f"/v1/conversations/{self.conv}/turns", json={"role": role, "text": text},
                         headers=self.headers, name="/v1/conversations/{id}/turns")
