"""docker-compose.yml and the process list of `make run` stay in step with the code."""

import importlib.util
from pathlib import Path

import yaml

from bookshare.eventbus.registry import QUEUES, all_consumers

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


def test_compose_names_the_whole_stack():
    assert set(compose()["services"]) == {
        "postgres",
        "redis",
        "mailpit",
        "migrate",
        "web",
        "worker-email",
        "worker-bulk",
        "beat",
        "flower",
    }


def test_web_runs_gunicorn_on_the_wsgi_app():
    command = compose()["services"]["web"]["command"]
    assert command[:2] == ["gunicorn", "bookshare.wsgi:application"]
    assert "healthz" in " ".join(compose()["services"]["web"]["healthcheck"]["test"])


def test_email_has_its_own_worker_and_every_queue_is_consumed():
    services = compose()["services"]
    email = queues_of(services["worker-email"]["command"])
    bulk = queues_of(services["worker-bulk"]["command"])
    assert "email" in email and "email" not in bulk
    assert email | bulk == set(QUEUES)
    assert {c.queue for c in all_consumers()} <= email | bulk


def test_app_services_start_after_healthy_databases_and_migrations():
    services = compose()["services"]
    for name in ("web", "worker-email", "worker-bulk", "beat", "flower"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["env_file"] == ".env"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]


def test_app_services_use_an_image_built_from_our_dockerfile():
    assert compose()["services"]["web"]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_make_run_starts_web_both_workers_and_beat_on_all_queues():
    spec = importlib.util.spec_from_file_location("devserver", ROOT / "scripts" / "devserver.py")
    devserver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(devserver)
    commands = devserver.commands("127.0.0.1", 8000)
    assert set(commands) == {"web", "worker-email", "worker-bulk", "beat"}
    email, bulk = queues_of(commands["worker-email"]), queues_of(commands["worker-bulk"])
    assert "email" in email and "email" not in bulk
    assert email | bulk == set(QUEUES)
