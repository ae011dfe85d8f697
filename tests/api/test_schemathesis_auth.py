"""The JSON API under schemathesis as a signed-in caller: `Authorization: Bearer` for a real account.

The anonymous run is tests/api/test_schemathesis.py; this one reuses its seeding, app and helpers and
adds a bearer token to every generated request, so the operations that act for an account (posting,
voting, reporting and deleting comments, /me) are exercised past their authentication. Positive and
negative modes: no server error, and every response matches the documented schema.
"""

from __future__ import annotations

import pytest
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.schemas import BaseSchema
from tests.api.test_schemathesis import Seeded, _operations, _run_operation, api_app, api_schema, seeded  # noqa: F401

from tidings.accounts.service import AccountService
from tidings.db.engine import Database, create_engine


@pytest.fixture
async def bearer(seeded: Seeded) -> str:  # noqa: F811
    db = Database(create_engine(seeded.settings))
    try:
        accounts = AccountService(db, seeded.settings)
        user = await accounts.create_user("api@example.org", "correct horse battery", "API caller")
        token, _ = await accounts.create_api_token(user, "schemathesis")
    finally:
        await db.dispose()
    return token


def _authorised(strategy: SearchStrategy[Case], token: str) -> SearchStrategy[Case]:
    def add_header(case: Case) -> Case:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        return case

    return strategy.map(add_header)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_with_a_bearer_token(
    api_schema: BaseSchema,  # noqa: F811
    bearer: str,
    mode: GenerationMode,
) -> None:
    failures = [
        _run_operation(op, _authorised(op.as_strategy(generation_mode=mode), bearer))
        for op in _operations(api_schema)
    ]
    assert not any(failures), "\n\n".join(filter(None, failures))


def test_operations_on_existing_resources_conform_with_a_bearer_token(
    api_schema: BaseSchema,  # noqa: F811
    seeded: Seeded,  # noqa: F811
    bearer: str,
) -> None:
    failures = [
        _run_operation(
            operation,
            _authorised(operation.as_strategy(path_parameters=seeded.existing[operation.path]), bearer),
        )
        for operation in _operations(api_schema)
        if operation.path in seeded.existing
    ]
    assert not any(failures), "\n\n".join(filter(None, failures))
