"""`tidings users ...` end to end against a SQLite file: the first admin, promotion, roles, listing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidings.accounts.service import AccountService
from tidings.cli import app
from tidings.config import Settings
from tidings.db.engine import Database, create_engine

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIDINGS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TIDINGS_LOG_LEVEL", "WARNING")
    return tmp_path


def authenticate(data_dir: Path, email: str, password: str) -> tuple[str, str]:
    async def go() -> tuple[str, str]:
        settings = Settings(data_dir=data_dir)
        db = Database(create_engine(settings))
        try:
            user = await AccountService(db, settings).authenticate(email, password)
            return user.role, user.display_name
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_create_admin_from_a_password_file(env: Path) -> None:
    secret = env / "password"
    secret.write_text(PASSWORD + "\n")
    result = runner.invoke(app, ["users", "create-admin", "Root@Example.org", "--password-file", str(secret)])
    assert result.exit_code == 0, result.output
    assert "created admin root@example.org" in result.output
    assert authenticate(env, "root@example.org", PASSWORD) == ("admin", "Root")

    again = runner.invoke(app, ["users", "create-admin", "root@example.org", "--password-file", str(secret)])
    assert again.exit_code == 1 and "--promote" in again.output

    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0 and "root@example.org" in listed.output and "admin" in listed.output


def test_create_admin_with_a_hidden_prompt_and_promote(env: Path) -> None:
    result = runner.invoke(
        app, ["users", "create-admin", "ann@example.org", "--name", "Ann"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # never echoed
    assert authenticate(env, "ann@example.org", PASSWORD) == ("admin", "Ann")

    demoted = runner.invoke(app, ["users", "set-role", "ann@example.org", "reader"])
    assert demoted.exit_code == 0 and "is now reader" in demoted.output
    promoted = runner.invoke(app, ["users", "create-admin", "ann@example.org", "--promote"])
    assert promoted.exit_code == 0 and "is now an admin" in promoted.output
    assert authenticate(env, "ann@example.org", PASSWORD)[0] == "admin"


def test_clear_errors(env: Path) -> None:
    short = env / "short"
    short.write_text("short")
    weak = runner.invoke(app, ["users", "create-admin", "a@example.org", "--password-file", str(short)])
    assert weak.exit_code == 1 and "at least 8 characters" in weak.output
    bad_email = runner.invoke(app, ["users", "create-admin", "not-an-email", "--password-file", str(short)])
    assert bad_email.exit_code == 1 and "email address" in bad_email.output
    unknown = runner.invoke(app, ["users", "set-role", "nobody@example.org", "admin"])
    assert unknown.exit_code == 1 and "no account" in unknown.output
    runner.invoke(app, ["users", "create-admin", "b@example.org"], input=f"{PASSWORD}\n{PASSWORD}\n")
    bad_role = runner.invoke(app, ["users", "set-role", "b@example.org", "boss"])
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
