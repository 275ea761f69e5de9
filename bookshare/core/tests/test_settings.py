"""Settings behave as documented: fail loudly without a secret, pass the deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="bookshare.settings", IGNORE_DOTENV="1", **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_debug_off_without_secret_key_refuses_to_start_and_says_why():
    result = manage("check", env_overrides={"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_off_with_a_real_secret_passes_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DEBUG": "false",
            "SECRET_KEY": "x9" * 30 + "-Kq_Zr!Lm",
            "ALLOWED_HOSTS": "bookshare.example",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_on_runs_without_a_secret_for_local_development():
    result = manage("check", env_overrides={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_debug_off_refuses_a_placeholder_secret_key():
    """Issue 13, item 13: .env.example's `SECRET_KEY=change-me` was accepted with DEBUG
    off. Failed before: `manage.py check` passed."""
    for key in ("change-me", "django-insecure-abc" + "x" * 60):
        result = manage("check", env_overrides={"DEBUG": "false", "SECRET_KEY": key})
        assert result.returncode != 0, key
        assert "placeholder" in result.stderr


def test_debug_off_refuses_a_short_secret_key():
    result = manage("check", env_overrides={"DEBUG": "false", "SECRET_KEY": "Kq9_Zr!Lm" * 5})
    assert result.returncode != 0
    assert "too short" in result.stderr


def test_the_removed_forwarded_for_switch_is_refused_with_directions():
    result = manage(
        "check",
        env_overrides={"DEBUG": "true", "ACCOUNTS_TRUST_X_FORWARDED_FOR": "true"},
    )
    assert result.returncode != 0
    assert "ACCOUNTS_TRUSTED_PROXIES" in result.stderr
