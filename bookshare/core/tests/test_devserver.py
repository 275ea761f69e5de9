"""`make run` (scripts/devserver.py): email links point at the port it serves."""

import importlib.util
from pathlib import Path

from django.conf import settings


def devserver():
    path = Path(settings.BASE_DIR) / "scripts" / "devserver.py"
    spec = importlib.util.spec_from_file_location("devserver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_url_follows_host_and_port_when_unset():
    env = devserver().environment("127.0.0.1", 8123, base={"PATH": "/usr/bin"})
    assert env["SITE_URL"] == "http://127.0.0.1:8123"
    assert env["PATH"] == "/usr/bin"


def test_a_site_url_from_the_environment_wins():
    env = devserver().environment("127.0.0.1", 8123, base={"SITE_URL": "https://books.example"})
    assert env["SITE_URL"] == "https://books.example"


def test_every_process_runs_with_that_environment_and_serves_the_port():
    module = devserver()
    commands = module.commands("127.0.0.1", 8123)
    assert "127.0.0.1:8123" in commands["web"]
    assert {f"worker-{g}" for g in settings.EVENTBUS_WORKERS} <= set(commands)
    assert "beat" in commands
