"""docker-compose.yml and the process list of `make run` stay in step with the code."""

import importlib.util
from pathlib import Path

import yaml
from django.conf import settings

from bookshare.eventbus.registry import all_consumers

ROOT = Path(__file__).resolve().parents[3]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def worker_group_of(command: list[str]) -> str:
    """The group a `python manage.py worker <group>` command starts."""
    assert command[command.index("manage.py") + 1] == "worker", command
    return command[command.index("manage.py") + 2]


def test_every_declared_queue_is_served_and_email_has_a_worker_of_its_own():
    groups = settings.EVENTBUS_WORKERS
    served = {q for spec in groups.values() for q in spec["queues"]}
    assert served == set(settings.EVENTBUS_QUEUES)
    assert groups["email"]["queues"] == ["email", "control"]
    assert [g for g, spec in groups.items() if "email" in spec["queues"]] == ["email"]
    # Notification mail has its own group too: a code never waits behind a digest.
    assert [g for g, spec in groups.items() if "mail" in spec["queues"]] == ["mail"]
    assert {c.queue for c in all_consumers()} <= served


def test_every_queue_declares_time_limits_below_the_hard_limit():
    for name, options in settings.EVENTBUS_QUEUES.items():
        assert 0 < options["soft_time_limit"] < options["time_limit"], name


def test_compose_names_the_whole_stack():
    assert set(compose()["services"]) == {
        "postgres",
        "redis",
        "mailpit",
        "migrate",
        "web",
        "worker-email",
        "worker-mail",
        "worker-bulk",
        "beat",
        "flower",
    }


def test_web_runs_gunicorn_on_the_wsgi_app():
    command = compose()["services"]["web"]["command"]
    assert command[:2] == ["gunicorn", "bookshare.wsgi:application"]
    assert "healthz" in " ".join(compose()["services"]["web"]["healthcheck"]["test"])


def test_compose_runs_one_worker_service_per_declared_group():
    services = compose()["services"]
    workers = {
        worker_group_of(spec["command"]): name
        for name, spec in services.items()
        if name.startswith("worker-")
    }
    assert workers == {g: f"worker-{g}" for g in settings.EVENTBUS_WORKERS}


def test_app_services_start_after_healthy_databases_and_migrations():
    services = compose()["services"]
    for name in ("web", "worker-email", "worker-mail", "worker-bulk", "beat", "flower"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["env_file"] == ".env"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]


def test_app_services_use_an_image_built_from_our_dockerfile():
    assert compose()["services"]["web"]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_make_run_starts_web_one_worker_per_group_and_beat():
    spec = importlib.util.spec_from_file_location("devserver", ROOT / "scripts" / "devserver.py")
    devserver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(devserver)
    commands = devserver.commands("127.0.0.1", 8000)
    groups = list(settings.EVENTBUS_WORKERS)
    assert set(commands) == {"web", "beat", *(f"worker-{g}" for g in groups)}
    for group in groups:
        assert worker_group_of(commands[f"worker-{group}"]) == group


def test_worker_command_builds_the_declared_queues():
    from bookshare.eventbus.management.commands.worker import celery_worker_argv

    argv = celery_worker_argv("email")
    assert argv[argv.index("-Q") + 1] == "email,control"
    argv = celery_worker_argv("bulk", concurrency=7)
    assert argv[argv.index("-c") + 1] == "7"
    assert "email" not in argv[argv.index("-Q") + 1].split(",")
