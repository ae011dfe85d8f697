"""Property-based tests of the JSON API from its own OpenAPI document (schemathesis 4).

Every operation gets generated valid and invalid requests on a database holding a few articles, on
both backends. No request may produce a server error, and every response must match its documented
status codes, content type and schema (errors included: `ErrorOut` for 404/422).

Schemathesis runs the ASGI app through its synchronous client on its own event-loop thread, with the
app's lifespan started there; so the runtime (and its database pool) lives on that loop, and the
lifespan is shut down after each test so no pool outlives its database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from tests.factories import make_article, make_source

from tidings.config import Settings
from tidings.db.engine import Database, create_engine
from tidings.stories.repo import assign_story, ensure_stories, refresh_stories
from tidings.web.app import create_app

# Enough to exercise each parameter's edges without making the suite slow (9 operations x 2 backends).
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    # Path parameters naming rows that exist, per path: so 200 bodies get checked too, not only 404s.
    existing: dict[str, dict[str, str]]


@pytest.fixture
async def seeded(settings: Settings) -> Seeded:
    db = Database(create_engine(settings))
    try:
        daily = await make_source(db, "The Daily Example")
        seoul = await make_source(db, "서울 뉴스", language="ko")
        for hours in range(4):
            await make_article(db, daily, age=timedelta(hours=hours), tags=["Trade", "Japan"])
        await make_article(db, daily, title="Fish & <Chips> 🐟", summary="A <b>bold</b> & salty story")
        korean = await make_article(
            db, seoul, title="서울시 버스 노선 발표", language="ko", tags=["교통", "Trade"]
        )
        other = await make_article(db, daily, title="Seoul announces new bus routes", tags=["Trade"])
        async with db.transaction() as session:  # a story of two articles, as the pipeline leaves it
            await ensure_stories(session, {korean.id: korean.published_at})
            await assign_story(session, [korean.id, other.id], korean.id)
            await refresh_stories(session, [korean.id], lead_articles={korean.id: korean.id})
    finally:
        await db.dispose()
    article, source, tag = {"article_id": korean.id}, {"slug": seoul.slug}, {"slug": "trade"}
    return Seeded(
        settings,
        {
            "/api/v1/articles/{article_id}": article,
            "/api/v1/articles/{article_id}/related": article,
            "/api/v1/sources/{slug}": source,
            "/api/v1/sources/{slug}/articles": source,
            "/api/v1/tags/{slug}/articles": tag,
            "/api/v1/stories/{story_id}": {"story_id": korean.id},
        },
    )


@pytest.fixture
def api_app(seeded: Seeded) -> Iterator[FastAPI]:
    app = create_app(seeded.settings, run_scheduler=False)
    yield app
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture
def api_schema(api_app: FastAPI) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/api/openapi.json", api_app)


def _operations(schema: BaseSchema) -> list[APIOperation]:
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            pytest.fail(f"schemathesis cannot use an operation of the schema: {result.err()}")
        operations.append(result.ok())
    return operations


def _run_operation(operation: APIOperation, strategy: SearchStrategy[Case]) -> str | None:
    """Run one operation's generated cases; the failure report, or None."""

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        run()
    except Exception as exc:  # collected so that one report names every failing operation
        return f"{operation.label}:\n{exc}"
    return None


# One Hypothesis run per operation rather than schemathesis' pytest plugin
# (`schemathesis.pytest.from_fixture`), whose lazy loader reads `Node._nodeid`, gone in pytest 9.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_schema(api_schema: BaseSchema, mode: GenerationMode) -> None:
    failures = [_run_operation(op, op.as_strategy(generation_mode=mode)) for op in _operations(api_schema)]
    assert not any(failures), "\n\n".join(filter(None, failures))


def test_operations_on_existing_resources_conform(api_schema: BaseSchema, seeded: Seeded) -> None:
    failures = [
        _run_operation(operation, operation.as_strategy(path_parameters=seeded.existing[operation.path]))
        for operation in _operations(api_schema)
        if operation.path in seeded.existing
    ]
    assert len(failures) == len(seeded.existing)
    assert not any(failures), "\n\n".join(filter(None, failures))


def test_schema_lists_every_operation(api_schema: BaseSchema) -> None:
    labels = {operation.label for operation in _operations(api_schema)}
    assert labels == {
        "GET /api/v1/articles",
        "GET /api/v1/articles/{article_id}",
        "GET /api/v1/articles/{article_id}/related",
        "GET /api/v1/stories",
        "GET /api/v1/stories/{story_id}",
        "GET /api/v1/sources",
        "GET /api/v1/sources/{slug}",
        "GET /api/v1/sources/{slug}/articles",
        "GET /api/v1/tags/trending",
        "GET /api/v1/tags/{slug}/articles",
        "GET /api/v1/search",
        "GET /api/v1/me",
        "GET /api/v1/me/for-you",
        "GET /api/v1/me/follows",
        "POST /api/v1/me/follows",
        "DELETE /api/v1/me/follows",
        "GET /api/v1/articles/{article_id}/comments",
        "POST /api/v1/articles/{article_id}/comments",
        "POST /api/v1/comments/{comment_id}/vote",
        "POST /api/v1/comments/{comment_id}/report",
        "DELETE /api/v1/comments/{comment_id}",
    }
