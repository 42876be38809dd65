import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from atende.env import env_bool, env_choice, env_database, env_int, secret_from_file


def test_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("ATENDE_DEBUG", "talvez")
    with pytest.raises(ImproperlyConfigured, match="ATENDE_DEBUG"):
        env_bool("ATENDE_DEBUG", False)


def test_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("PORT", "oito mil")
    with pytest.raises(ImproperlyConfigured, match="PORT"):
        env_int("PORT", 8000)


def test_number_below_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("ATENDE_SESSION_SECONDS", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 300"):
        env_int("ATENDE_SESSION_SECONDS", 3600, minimum=300)


def test_choice_outside_the_list_is_refused(monkeypatch):
    monkeypatch.setenv("ATENDE_LOG_LEVEL", "LOUD")
    with pytest.raises(ImproperlyConfigured, match="ATENDE_LOG_LEVEL"):
        env_choice("ATENDE_LOG_LEVEL", "INFO", ["INFO", "DEBUG"])


def test_unset_values_take_the_default(monkeypatch):
    monkeypatch.delenv("ATENDE_DEBUG", raising=False)
    assert env_bool("ATENDE_DEBUG", True) is True
    assert env_int("ATENDE_NOTHING", 7) == 7


def test_postgres_url_becomes_a_database_entry(monkeypatch, tmp_path):
    monkeypatch.setenv("ATENDE_DATABASE_URL", "postgres://atende:s%40gredo@db.local:5433/atende")
    db = env_database("ATENDE_DATABASE_URL", tmp_path / "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "atende",
        "s@gredo",
        "db.local",
        "5433",
        "atende",
    )


def test_postgres_binds_values_on_the_server_and_prepares_unless_the_url_says_not(
    monkeypatch, tmp_path
):
    def options(query):
        monkeypatch.setenv("ATENDE_DATABASE_URL", f"postgres://atende@db.local/atende{query}")
        return env_database("ATENDE_DATABASE_URL", tmp_path / "x.sqlite3")["OPTIONS"]

    assert options("") == {"server_side_binding": True, "prepare_threshold": 5}
    assert options("?sslmode=require&server_side_binding=false") == {
        "sslmode": "require",
        "server_side_binding": False,
        "prepare_threshold": None,
    }
    assert options("?prepare_threshold=off")["prepare_threshold"] is None
    assert options("?prepare_threshold=1")["prepare_threshold"] == 1
    with pytest.raises(ImproperlyConfigured, match="ATENDE_DATABASE_URL"):
        options("?prepare_threshold=sempre")


def test_unknown_database_scheme_names_the_variable_without_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("ATENDE_DATABASE_URL", "mysql://root:segredo@localhost/atende")
    with pytest.raises(ImproperlyConfigured) as error:
        env_database("ATENDE_DATABASE_URL", tmp_path / "x.sqlite3")
    assert "ATENDE_DATABASE_URL" in str(error.value)
    assert "segredo" not in str(error.value)


def test_embedded_database_is_sqlite_in_wal_mode_with_a_busy_timeout(monkeypatch, tmp_path):
    monkeypatch.delenv("ATENDE_DATABASE_URL", raising=False)
    db = env_database("ATENDE_DATABASE_URL", tmp_path / "atende.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5


def test_secret_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("ATENDE_SECRET_KEY", raising=False)
    path = tmp_path / "secret_key"
    first = secret_from_file("ATENDE_SECRET_KEY", path, lambda: "gerado-1")
    second = secret_from_file("ATENDE_SECRET_KEY", path, lambda: "gerado-2")
    assert first == second == "gerado-1"
    assert path.stat().st_mode & 0o777 == 0o600


def test_misconfigured_variable_stops_start_up_with_its_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "atende", "check"],
        env={"ATENDE_DATA_DIR": str(tmp_path), "ATENDE_HTTPS": "sim", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "ATENDE_HTTPS" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_default_site_url_follows_the_port_served(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "atende",
            "shell",
            "-c",
            "from django.conf import settings;print(settings.SITE_URL)",
        ],
        env={"ATENDE_DATA_DIR": str(tmp_path), "PORT": "9123", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "http://127.0.0.1:9123", result.stderr


@pytest.mark.parametrize(
    ("bind", "site"),
    [("127.0.0.1:9000", "http://127.0.0.1:9000"), ("0.0.0.0:8080", "http://127.0.0.1:8080")],
)
def test_the_server_gives_its_worker_the_address_it_serves(bind, site):
    from atende.core.management.commands.serve import served_environment

    assert served_environment({}, bind=bind)["ATENDE_SITE_URL"] == site
    mine = {"ATENDE_SITE_URL": "https://atende.example.com.br"}
    assert served_environment(mine, bind=bind)["ATENDE_SITE_URL"] == mine["ATENDE_SITE_URL"]
