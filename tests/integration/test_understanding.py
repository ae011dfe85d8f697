"""The understanding step end to end on a real database: vectors stored, wire copies found,
stories formed across languages, hashtags derived, related articles and story pages served."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories import make_article, make_source

from tidings.ai.embeddings import UniversalSentenceEncoder
from tidings.ai.models import AIResult
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.ingest.models import Article
from tidings.runtime import Runtime
from tidings.stories import repo as story_repo
from tidings.stories.analysis import EmbedderAnalyser
from tidings.stories.models import ArticleFeatures, Story
from tidings.stories.related import RelatedIndex
from tidings.tags.models import ArticleTag
from tidings.web.app import create_app

KYODO = (
    "TOKYO (Kyodo) -- Japan and South Korea agreed Tuesday to resume regular shuttle diplomacy between "
    "their leaders, Foreign Minister Yoko Kamikawa said after talks with her South Korean counterpart "
    "Cho Tae-yul in Tokyo. The two ministers also confirmed close cooperation with the United States on "
    "North Korea's missile launches, which have intensified this year. Kamikawa said the agreement marks "
    "a new phase in bilateral relations after years of friction over wartime labor. Cho said Seoul hopes "
    "to expand exchanges in trade, energy and tourism, and to hold a trilateral summit with China soon. "
    "The ministers agreed to meet again in Seoul early next year to review progress on the plan."
)
# The Mainichi reprints the Kyodo copy under its own headline, minus the last sentence.
MAINICHI = KYODO.rsplit(" The ministers", 1)[0]
JA_REPORT = (
    "日本と韓国の外相は火曜日、東京で会談し、首脳が相互に訪問するシャトル外交を再開することで合意した。"
    "上川陽子外相と韓国の趙兌烈外相は、北朝鮮のミサイル発射をめぐり米国と緊密に連携することも確認した。"
    "両外相は来年初めにソウルで再び会談する予定だ。"
)
UNRELATED = (
    "Shares of chip makers rallied on Wall Street on Tuesday after a leading semiconductor company "
    "reported quarterly revenue well above analysts' forecasts, driven by demand for data-center "
    "processors used in artificial intelligence. The company raised its full-year outlook and announced "
    "a new share buyback programme worth ten billion dollars. Analysts said supply constraints for "
    "advanced packaging would ease next year, allowing shipments to grow faster than expected."
)


@pytest.fixture(scope="module")
def embedder() -> Iterator[UniversalSentenceEncoder]:
    yield UniversalSentenceEncoder()


@pytest.fixture
async def runtime(settings: Settings, embedder: UniversalSentenceEncoder) -> AsyncIterator[Runtime]:
    rt = Runtime.build(settings, analyser=EmbedderAnalyser(embedder))
    yield rt
    await rt.aclose()


async def _corpus(rt: Runtime) -> dict[str, Article]:
    kyodo = await make_source(rt.db, "Kyodo News")
    mainichi = await make_source(rt.db, "The Mainichi")
    nhk = await make_source(rt.db, "NHK", language="ja")
    markets = await make_source(rt.db, "Markets Daily")
    now = utcnow()
    return {
        "kyodo": await make_article(
            rt.db,
            kyodo,
            title="Japan, South Korea agree to resume shuttle diplomacy",
            text=KYODO,
            published_at=now - timedelta(hours=3),
        ),
        "mainichi": await make_article(
            rt.db,
            mainichi,
            title="Tokyo and Seoul to restart leaders' visits",
            text=MAINICHI,
            published_at=now - timedelta(hours=2),
        ),
        "ja": await make_article(
            rt.db,
            nhk,
            title="日韓外相、シャトル外交の再開で合意",
            text=JA_REPORT,
            language="ja",
            published_at=now - timedelta(hours=1),
        ),
        "chips": await make_article(
            rt.db,
            markets,
            title="Chip stocks rally after blowout earnings",
            text=UNRELATED,
            published_at=now - timedelta(minutes=30),
        ),
    }


async def test_new_articles_get_vectors_stories_copies_and_hashtags(runtime: Runtime) -> None:
    made = await _corpus(runtime)
    assert await runtime.understanding.pending() == 4
    assert await runtime.understanding.run_until_idle() == 4
    assert await runtime.understanding.pending() == 0

    async with runtime.db.session() as session:
        features = await session.scalar(select(func.count()).select_from(ArticleFeatures))
        rows = {a.id: a for a in await session.scalars(select(Article))}
        derived = await session.scalar(
            select(func.count()).select_from(ArticleTag).where(ArticleTag.origin == "derived")
        )
        stories = {s.id: s for s in await session.scalars(select(Story))}
    assert features == 4
    kyodo, mainichi, ja, chips = (rows[made[k].id] for k in ("kyodo", "mainichi", "ja", "chips"))
    # The reprint points at the wire original, and both name the agency.
    assert mainichi.duplicate_of == kyodo.id and kyodo.duplicate_of is None
    assert kyodo.wire_agency and "Kyodo" in kyodo.wire_agency
    # One story across English and Japanese coverage; the market report is elsewhere.
    assert kyodo.story_id and kyodo.story_id == mainichi.story_id == ja.story_id
    assert chips.story_id and chips.story_id != kyodo.story_id
    story = stories[kyodo.story_id]
    assert story.article_count == 3 and story.source_count == 3
    assert set(story.languages) == {"en", "ja"}
    assert story.title in {kyodo.title, mainichi.title, ja.title}
    assert derived and derived > 0
    assert len(runtime.related) == 4
    # The story's brief was computed in the background, so its page does not wait for it.
    async with runtime.db.session() as session:
        briefs = await session.scalar(
            select(func.count()).select_from(AIResult).where(AIResult.target == f"story:{kyodo.story_id}")
        )
    assert briefs == 1


async def test_related_articles_exclude_copies_and_story_lists_the_rest(runtime: Runtime) -> None:
    made = await _corpus(runtime)
    await runtime.understanding.run_until_idle()
    kyodo_id = made["kyodo"].id
    copies = await runtime.articles.copies(made["mainichi"].id, kyodo_id)
    assert [c.id for c in copies] == [kyodo_id]
    in_story = await runtime.articles.in_story(kyodo_id, (await runtime.articles.get(kyodo_id)).story_id)
    assert made["ja"].id in {c.id for c in in_story}
    assert made["mainichi"].id not in {c.id for c in in_story}  # a copy is listed once, as its original
    related = await runtime.articles.related(kyodo_id)
    assert made["mainichi"].id not in {c.id for c in related}
    assert made["ja"].id not in {c.id for c in related}  # same story: its own list


async def test_restored_state_keeps_growing_the_same_story(
    settings: Settings, runtime: Runtime, embedder: UniversalSentenceEncoder
) -> None:
    made = await _corpus(runtime)
    await runtime.understanding.run_until_idle()
    story_id = (await runtime.articles.get(made["kyodo"].id)).story_id

    later = Runtime.build(settings, analyser=EmbedderAnalyser(embedder))
    try:
        yonhap = await make_source(later.db, "Yonhap")
        follow_up = await make_article(
            later.db,
            yonhap,
            title="South Korea, Japan to resume shuttle diplomacy, ministers say",
            text=(
                "SEOUL, Nov. 23 (Yonhap) -- South Korea and Japan agreed to resume shuttle diplomacy between "
                "their leaders, Foreign Minister Cho Tae-yul said after meeting Japanese Foreign Minister "
                "Yoko Kamikawa in Tokyo on Tuesday. The two also agreed to cooperate closely with the United "
                "States over North Korea's missile launches and to meet again in Seoul next year."
            ),
        )
        assert await later.understanding.run_until_idle() == 1
        detail = await later.articles.get(follow_up.id)
        assert detail.story_id == story_id
        assert detail.wire_agency and "Yonhap" in detail.wire_agency
        await later.understanding.maintain()
    finally:
        await later.aclose()


async def test_story_page_article_page_and_home(runtime: Runtime, settings: Settings) -> None:
    made = await _corpus(runtime)
    await runtime.understanding.run_until_idle()
    story_id = (await runtime.articles.get(made["kyodo"].id)).story_id
    app = create_app(settings, runtime=runtime, run_scheduler=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            story = await client.get(f"/en/story/{story_id}")
            assert story.status_code == 200
            for marker in ('id="coverage"', 'id="timeline"', "First reported by", "Kyodo News", "NHK"):
                assert marker in story.text
            assert (await client.get(f"/en/story/{'0' * 32}")).status_code == 404
            assert (await client.get("/en/story/not-an-id")).status_code == 404

            reprint = await client.get(f"/en/article/{made['mainichi'].id}")
            assert "Syndicated from Kyodo" in reprint.text
            assert 'id="copies"' in reprint.text and 'id="in-story"' in reprint.text
            assert reprint.text.index(
                'id="related"' if 'id="related"' in reprint.text else 'id="in-story"'
            ) > (reprint.text.index('id="comments"'))

            home = await client.get("/en/")
            assert 'id="top-stories"' in home.text and f"/en/story/{story_id}" in home.text
            korean = await client.get(f"/ko/story/{story_id}")
            assert korean.status_code == 200

            top = (await client.get("/api/v1/stories")).json()
            assert [item["id"] for item in top["items"]] == [story_id]
            assert top["items"][0]["source_count"] == 3
            detail = (await client.get(f"/api/v1/stories/{story_id}")).json()
            assert len(detail["timeline"]) == 2  # the reprint is folded into its original
            assert detail["reprints"] == 1 and detail["first_reported"]["id"] == made["kyodo"].id
            article = (await client.get(f"/api/v1/articles/{made['mainichi'].id}")).json()
            assert article["duplicate_of"] == made["kyodo"].id and article["story_id"] == story_id
            missing = await client.get(f"/api/v1/stories/{'0' * 32}")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_related_index_is_saved_reloaded_and_catches_up(runtime: Runtime, settings: Settings) -> None:
    made = await _corpus(runtime)
    await runtime.understanding.run_until_idle()
    runtime.related.save()
    path = settings.data_dir / "related.index"
    assert path.exists()

    reloaded = RelatedIndex(model=runtime.related.model, path=path)
    assert len(reloaded) == 4 and made["ja"].id in reloaded
    late = await make_article(
        runtime.db, await make_source(runtime.db, "Late Wire"), title="Late", text=UNRELATED
    )
    await runtime.understanding.run_until_idle()
    await reloaded.catch_up(runtime.db)
    assert late.id in reloaded and len(reloaded) == 5
    # Another model's file is not trusted: it is rebuilt from the database instead.
    assert len(RelatedIndex(model="another-model", path=path)) == 0


async def test_a_failed_batch_leaves_its_articles_pending(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Features and decisions commit together: a failure while recording stories stores neither,
    so the articles are understood again on the next round instead of staying half done."""
    await _corpus(runtime)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(story_repo, "refresh_stories", broken)
    with pytest.raises(RuntimeError):
        await runtime.understanding.run_once()
    assert await runtime.understanding.pending() == 4
    monkeypatch.undo()
    assert await runtime.understanding.run_until_idle() == 4
    async with runtime.db.session() as session:
        story_ids = set(await session.scalars(select(Article.story_id)))
        rows = set(await session.scalars(select(Story.id)))
    assert None not in story_ids and story_ids == rows  # every article in a story that exists
