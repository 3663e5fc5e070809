"""Acknowledged = durable: SIGKILL a real server process mid-load, restart it, lose nothing.

The server runs as a subprocess (uvicorn on 127.0.0.1, a free port) over a SQLite file; a thread
appends turns (each with an idempotency key) to two conversations while the main thread kills
the server hard after a few dozen acknowledgements. After a restart on the same file every
acknowledged turn is there with the prediction that was returned, nothing is duplicated, at most
the one in-flight request was stored unacknowledged, and retrying it does not duplicate it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from service_helpers import add_key, auth

from salesrl.conversation import Conversation, Outcome, Role, Turn
from salesrl.service import BaselineEngine

MAX_APPENDS = 400  # bounded load; the kill comes long before
KILL_AFTER = 40  # acknowledgements


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "salesrl.service", "--port", str(self.port), "--db", db_url,
             "--log-level", "warning"], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: "
                                   f"{log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start within 60 s")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def _payload(i: int) -> dict[str, Any]:
    role = "customer" if i % 2 else "rep"
    text = f"turn {i}" + (" too expensive" if i % 7 == 3 else "") + ("?" if i % 5 == 1 else "")
    return {"role": role, "text": text, "idempotency_key": f"k{i}"}


def test_acknowledged_turns_survive_sigkill(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    key = add_key(url, "t")
    server = Server(url, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base, headers=auth(key), timeout=10) as c:
            convs = [c.post("/v1/conversations").json()["id"] for _ in range(2)]
        acked: dict[int, dict[str, Any]] = {}
        in_flight: list[int] = []
        enough = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=server.base, headers=auth(key), timeout=10) as client:
                for i in range(MAX_APPENDS):
                    conv = convs[i % 2]
                    in_flight[:] = [i]
                    try:
                        r = client.post(f"/v1/conversations/{conv}/turns", json=_payload(i))
                    except httpx.HTTPError:
                        return  # the server is gone; request i may or may not be stored
                    assert r.status_code == 201, r.text
                    acked[i] = r.json()
                    in_flight[:] = []
                    if len(acked) >= KILL_AFTER:
                        enough.set()
            enough.set()

        thread = threading.Thread(target=load, daemon=True)
        thread.start()
        assert enough.wait(timeout=120), "load did not get going"
        time.sleep(0.003)  # let the next append get under way in the server
        server.kill()  # SIGKILL while the loop is still sending
        thread.join(timeout=30)
        assert not thread.is_alive()
    finally:
        server.stop()
    assert KILL_AFTER <= len(acked) < MAX_APPENDS, "the kill must land during the load"

    server = Server(url, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=server.base, headers=auth(key), timeout=10) as c:
            stored: dict[int, dict[str, Any]] = {}
            for conv in convs:
                timeline = c.get(f"/v1/conversations/{conv}").json()
                turns = timeline["turns"]
                assert [t["turn_index"] for t in turns] == list(range(len(turns)))
                assert timeline["n_turns"] == len(turns)
                for t in turns:
                    i = int(t["text"].split()[1].rstrip("?"))
                    assert i not in stored, "duplicated turn"
                    stored[i] = t
            for i, answer in acked.items():
                assert i in stored, f"acknowledged turn {i} lost"
                t = stored[i]
                assert t["text"] == _payload(i)["text"]
                assert t["prediction"] == {k: v for k, v in answer.items()
                                           if k != "conversation_id"}
            assert set(stored) - set(acked) <= set(in_flight)
            # Retrying the request that was in flight never duplicates it.
            for i in in_flight:
                r = c.post(f"/v1/conversations/{convs[i % 2]}/turns", json=_payload(i))
                assert r.status_code == 201
                if i in stored:
                    assert r.headers.get("idempotent-replayed") == "true"
            # Sessions are rebuilt from storage: predictions equal a clean replay.
            for conv in convs:
                r = c.post(f"/v1/conversations/{conv}/turns",
                           json={"role": "customer", "text": "sounds good, let's do it"})
                assert r.status_code == 201
                turns = c.get(f"/v1/conversations/{conv}").json()["turns"]
                texts = [t["text"] for t in turns]
                assert len(texts) == len(set(texts))
                ref = BaselineEngine().score([Conversation(
                    id=conv, outcome=Outcome.UNKNOWN,
                    turns=[Turn(role=Role(t["role"]), text=t["text"]) for t in turns])])[0]
                assert [t["prediction"]["probability"] for t in turns] == \
                    [p.probability for p in ref]
    finally:
        server.stop()
