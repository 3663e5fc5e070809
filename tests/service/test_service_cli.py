"""``salesrl keys create`` and ``salesrl serve``."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import salesrl.cli.serve  # noqa: F401  (registers serve and the keys group)
from salesrl.cli.app import app
from salesrl.service import Settings, create_app

runner = CliRunner()


def test_keys_create_prints_a_working_key_alone_on_the_last_line(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    result = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--db", str(db)])
    assert result.exit_code == 0, result.output
    key = result.output.rstrip("\n").splitlines()[-1]
    assert key.startswith("slr_") and " " not in key and len(key) > 40
    for f in tmp_path.iterdir():  # only the hash is stored (database, WAL, anything)
        assert key.encode() not in f.read_bytes()
    again = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--db", str(db)])
    second = again.output.rstrip("\n").splitlines()[-1]
    assert second != key
    with TestClient(create_app(Settings(db_url=str(db)))) as client:
        for k in (key, second):
            r = client.post("/v1/conversations", headers={"Authorization": f"Bearer {k}"})
            assert r.status_code == 201
        conv = r.json()["id"]
        # Both keys belong to the same tenant.
        r = client.get(f"/v1/conversations/{conv}", headers={"X-API-Key": key})
        assert r.status_code == 200


def test_keys_create_requires_a_tenant(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2


def test_serve_passes_its_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import salesrl.service.server as server

    seen: list[Settings] = []
    monkeypatch.setattr(server, "run", lambda settings, **kw: seen.append(settings))
    monkeypatch.delenv("SALESRL_DB_URL", raising=False)
    result = runner.invoke(app, ["serve", "--port", "8123", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert seen[-1].port == 8123 and seen[-1].host == "127.0.0.1"
    assert seen[-1].db_url == f"sqlite:///{tmp_path / 's.db'}"
    result = runner.invoke(app, ["serve", "--db", "postgresql://u:p@h/db"])
    assert seen[-1].db_url == "postgresql+psycopg://u:p@h/db"
    result = runner.invoke(app, ["serve"])
    assert seen[-1].db_url == "sqlite:///salesrl.db" and seen[-1].port == 8000


def test_settings_come_from_env_then_arguments() -> None:
    env = {"SALESRL_MAX_TEXT_CHARS": "77", "SALESRL_DB_URL": "/tmp/x.db", "OTHER": "1"}
    s = Settings.from_env(env)
    assert s.max_text_chars == 77 and s.db_url == "sqlite:////tmp/x.db"
    s = Settings.from_env(env, max_text_chars=5, db_url=None)
    assert s.max_text_chars == 5 and s.db_url == "sqlite:////tmp/x.db"
    with pytest.raises(ValueError):
        Settings.from_env({"SALESRL_PORT": "not-a-port"})


def test_bad_settings_are_one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESRL_MAX_TEXT_CHARS", "lots")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SALESRL_MAX_TEXT_CHARS" in result.output and "Traceback" not in result.output


def test_serve_uses_one_torch_thread_unless_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                 thread_pools: object) -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    import salesrl.service.server as server

    torch = thread_pools
    monkeypatch.setattr(server, "run", lambda settings, **kw: None)
    monkeypatch.delenv("SALESRL_TORCH_THREADS", raising=False)
    db = ["--db", str(tmp_path / "s.db")]
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user chose: left alone
    assert runner.invoke(app, ["serve", *db]).exit_code == 0
    assert torch.get_num_threads() == 2
    monkeypatch.delenv("OMP_NUM_THREADS")  # nobody chose: one thread per forward
    threadpool_limits(2)
    assert runner.invoke(app, ["serve", *db]).exit_code == 0
    assert torch.get_num_threads() == 1
    assert {pool["num_threads"] for pool in threadpool_info()} == {1}  # BLAS and OpenMP too
    assert runner.invoke(app, ["serve", *db, "--torch-threads", "2"]).exit_code == 0
    assert torch.get_num_threads() == 2
    monkeypatch.setenv("SALESRL_TORCH_THREADS", "1")
    assert runner.invoke(app, ["serve", *db]).exit_code == 0
    assert torch.get_num_threads() == 1
    bad = runner.invoke(app, ["serve", *db, "--torch-threads", "0"])
    assert bad.exit_code == 2 and "--torch-threads" in bad.output
    assert "Traceback" not in bad.output
