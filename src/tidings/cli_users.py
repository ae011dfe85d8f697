"""`tidings users ...`: the first administrator, the list of accounts, roles.

Run on the server itself: whoever can run this can already read the database, so it needs no
sign-in. The password never appears on the command line (shell history, `ps`): it is asked for
with a hidden prompt, or read from a file (`--password-file`, e.g. a Docker secret).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

users_app = typer.Typer(help="Accounts: the first admin, roles.", no_args_is_help=True)
T = TypeVar("T")


def _with_accounts(settings: Any, use: Callable[[Any], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run `use(accounts)` (on a migrated database): only the accounts service, none of the crawler."""
    from tidings.accounts.service import AccountService
    from tidings.cli import _run
    from tidings.db.engine import Database, create_engine

    async def go() -> T:
        db = Database(create_engine(settings))
        try:
            return await use(AccountService(db, settings))
        finally:
            await db.dispose()

    return _run(go, migrate=settings if migrate else None)


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The administrator's email address (their sign-in name).")],
    name: Annotated[
        str | None, typer.Option(help="Display name; default: the part of the email before @.")
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file", exists=True, dir_okay=False, readable=True, help="Read the password here."
        ),
    ] = None,
    promote: Annotated[
        bool,
        typer.Option("--promote", help="If the account exists, make it an admin (its password is kept)."),
    ] = False,
) -> None:
    """Create an administrator account (the first one is made this way), or promote an existing one."""
    from tidings.cli import _settings, console, err_console

    settings = _settings()

    async def existing(accounts: Any) -> Any:
        return await accounts.user_by_email(email)

    user = _with_accounts(settings, existing)
    if user is not None:
        if not promote:
            err_console.print(
                f"[red]error:[/red] an account with {user.email} exists: add --promote to make it admin"
            )
            raise typer.Exit(1)

        async def make_admin(accounts: Any) -> Any:
            return await accounts.set_role(user.id, "admin")

        _with_accounts(settings, make_admin, migrate=False)
        console.print(f"{user.email} is now an admin")
        return
    password = _read_password(password_file)
    display_name = name or email.split("@", 1)[0]

    async def create(accounts: Any) -> Any:
        return await accounts.create_user(email, password, display_name, role="admin", check_name=False)

    created = _with_accounts(settings, create, migrate=False)
    console.print(f"created admin {created.email} (id {created.id})")


@users_app.command("list")
def list_users() -> None:
    """Every account: id, email, name, role, and whether it is banned or deleted."""
    from tidings.cli import _settings, console

    settings = _settings()

    async def everyone(accounts: Any) -> Any:
        return await accounts.list_users()

    table = Table("id", "email", "name", "role", "state", "created")
    for user in _with_accounts(settings, everyone):
        state = "deleted" if user.is_deleted else "banned" if user.is_banned else "ok"
        table.add_row(
            str(user.id),
            user.email or "",
            user.display_name,
            user.role,
            state,
            user.created_at.strftime("%Y-%m-%d"),
        )
    console.print(table)


@users_app.command("set-role")
def set_role(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    role: Annotated[str, typer.Argument(help="reader, moderator or admin.")],
) -> None:
    """Change an account's role. Its sessions end: the new role applies from its next sign-in."""
    from tidings.cli import _settings, console, err_console

    settings = _settings()

    async def change(accounts: Any) -> Any:
        user = await accounts.user_by_email(email)
        if user is None:
            return None
        return await accounts.set_role(user.id, role)

    user = _with_accounts(settings, change)
    if user is None:
        err_console.print(f"[red]error:[/red] no account with the email {email}")
        raise typer.Exit(1)
    console.print(f"{user.email} is now {user.role}")
