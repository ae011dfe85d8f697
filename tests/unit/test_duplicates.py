"""Near-duplicate detection: reprints found, different reporting on one event left apart."""

from __future__ import annotations

import gzip
import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from tidings.stories.duplicates import (
    CJK_SHINGLE,
    DEFAULT_NUM_PERM,
    WORD_SHINGLE,
    DuplicateRule,
    Fingerprint,
    NearDuplicateIndex,
    containment,
    fingerprint,
    is_near_duplicate,
    lsh_bands,
    shingle_size,
    tokenise,
)

KYODO_TITLE = "Japan Cabinet approves record defense budget amid China concerns"
KYODO = """TOKYO (Kyodo) -- Japan's Cabinet on Friday approved a record 8.7 trillion yen defense budget for
the next fiscal year, as the government pushes ahead with a five-year plan to build up the country's
capabilities in the face of China's growing military assertiveness and North Korea's missile launches.

The draft budget, up 16.5 percent from the current year, includes funds for long-range cruise missiles
capable of striking enemy bases, the development of a next-generation fighter jet with Britain and Italy,
and the purchase of additional F-35 stealth fighters from the United States.

Chief Cabinet Secretary Yoshimasa Hayashi told a press conference that the spending was necessary to
protect the lives of the Japanese people in what he described as the most severe security environment
since the end of World War II.

The government plans to secure about 43 trillion yen for defense over the five years through fiscal
2027, bringing annual spending to around 2 percent of gross domestic product, in line with the target
of member countries of the North Atlantic Treaty Organization.

How to fund the increase remains contentious. The ruling Liberal Democratic Party has agreed in
principle to raise corporate, income and tobacco taxes, but has postponed a decision on when the tax
hikes will take effect amid opposition from some lawmakers ahead of local elections in the spring.

Opposition parties have criticized the plan, saying the government has not explained to the public
why such a large increase is needed or how the new counterstrike capability squares with the
country's war-renouncing Constitution. ==Kyodo"""

# The Mainichi's reprint: its own headline, the dateline kept, the last paragraph trimmed.
MAINICHI_TITLE = "Record defense spending of 8.7 tril. yen OK'd by Cabinet"
MAINICHI = KYODO.rsplit("\n\n", 1)[0]

# The same Cabinet meeting reported by another outlet in its own words.
OTHER_TITLE = "Japan's Cabinet approves record defense budget"
OTHER = """Japan will spend more on its military next year than ever before after ministers signed off on a
draft budget on Friday that sets aside 8.7 trillion yen for defense, a rise of about one sixth on this
year's figure.

The money will pay for cruise missiles with enough range to hit launch sites in neighbouring countries,
more American-made F-35 jets and a joint fighter programme with London and Rome, officials said.

Government spokesman Yoshimasa Hayashi said Japan faced its toughest security situation in the
post-war era, pointing to Chinese naval activity near disputed islands and repeated North Korean tests.

Critics say Prime Minister Fumio Kishida has yet to explain how the build-up will be paid for. His
party has backed tax rises in principle but left their timing open, wary of a backlash before
regional polls.

Analysts said the plan would make Japan one of the world's biggest military spenders within five
years, a sharp break with decades of keeping defense outlays near 1 percent of economic output."""

JA_TITLE = "防衛費、過去最大の8.7兆円　閣議決定"
JA = """【東京共同】政府は23日の閣議で、来年度予算案の防衛費を過去最大の8兆7千億円とすることを決定した。
今年度から16.5%増え、敵の発射拠点を攻撃できる長射程ミサイルの取得や、英国、イタリアと共同で進める次期戦闘機の開発費を盛り込んだ。
林芳正官房長官は記者会見で「戦後最も厳しく複雑な安全保障環境に直面している」と述べ、国民の命を守るために必要な措置だと強調した。
政府は2027年度までの5年間で防衛費を総額約43兆円とする計画で、国内総生産（GDP）比で2%程度への引き上げを目指している。
財源を巡っては、自民党が法人税や所得税などの増税で大筋合意したものの、実施時期の決定は先送りした。
野党は「増額の必要性について国民への説明が不十分だ」と批判している。（共同）"""
JA_REPRINT_TITLE = "防衛費8.7兆円を閣議決定　過去最大、増税時期は先送り"
JA_REPRINT = JA.rsplit("\n", 1)[0]
JA_OTHER = """政府が23日に閣議決定した来年度予算案で、防衛関係費は8兆7千億円に達し、過去最高を更新した。
反撃能力の柱となる長射程ミサイルの配備を急ぐほか、米国製の最新鋭ステルス戦闘機F35の追加購入費も計上された。
防衛省幹部は「周辺国の軍備増強に対応するには不可欠な予算だ」と話す。
一方、増税の開始時期は決まっておらず、与党内には春の統一地方選への影響を懸念する声も根強い。
専門家からは、費用対効果の検証が欠かせないとの指摘が出ている。"""

KO_TITLE = "정부, 내년 예산안 656조원 확정…R&D 예산 대폭 삭감"
KO = """(세종=연합뉴스) 홍길동 기자 = 정부가 내년도 예산을 올해보다 2.8% 늘어난 656조9천억원으로 편성했다.
기획재정부는 29일 국무회의에서 이런 내용을 담은 2024년도 예산안을 의결했다고 밝혔다.
총지출 증가율은 2005년 관련 통계를 작성한 이후 가장 낮은 수준으로, 정부는 건전재정 기조를 유지하겠다는 방침이다.
연구개발(R&D) 예산은 올해보다 5조2천억원 줄어든 25조9천억원으로 편성돼 과학기술계의 반발이 예상된다.
반면 사회적 약자 지원 예산과 국방 예산은 늘어났다.
정부는 다음 달 1일 예산안을 국회에 제출할 예정이며, 국회는 12월 2일까지 예산안을 처리해야 한다.
야당은 긴축 예산이 경기 회복을 어렵게 할 것이라고 비판했다."""
KO_REPRINT_TITLE = "내년 예산 656.9조원…증가율 역대 최저"
KO_REPRINT = KO.rsplit("\n", 1)[0]
KO_OTHER = """내년 나라 살림 규모가 656조원대로 정해졌다. 정부는 29일 국무회의를 열고 예산안을 확정했다.
지출 증가 폭은 2.8%에 그쳐 통계 작성 이래 최저치를 기록했다. 재정 당국은 허리띠를 졸라매겠다는 입장이다.
특히 연구개발 분야 예산이 5조원 넘게 깎이면서 대학과 연구기관들 사이에서 우려의 목소리가 커지고 있다.
한 국책연구소 연구원은 기자와의 통화에서 진행 중인 과제가 중단될까 걱정된다고 말했다.
예산안은 국회 심의를 거쳐 연말에 최종 확정된다."""

# Two briefs from one template: different news in the same 30 words.
BRIEF_A = (
    "Tokyo stocks rose on Monday, with the benchmark Nikkei Stock Average gaining 312.45 points, or "
    "1.02 percent, to close at 30,912.88, led by exporters as the yen weakened against the dollar."
)
BRIEF_B = (
    "Tokyo stocks fell on Tuesday, with the benchmark Nikkei Stock Average losing 188.06 points, or "
    "0.61 percent, to close at 30,724.82, dragged by chipmakers as the yen firmed against the dollar."
)


def test_reprint_with_new_headline_and_trimmed_ending_is_a_near_duplicate() -> None:
    match = is_near_duplicate(fingerprint(KYODO_TITLE, KYODO), fingerprint(MAINICHI_TITLE, MAINICHI))
    assert match is not None
    assert match.kind == "near"
    assert match.title_similarity < 0.9  # found on the text, not the headline


def test_same_event_reported_separately_is_not_a_duplicate() -> None:
    # Headlines nearly identical, facts identical, wording the outlet's own.
    assert is_near_duplicate(fingerprint(KYODO_TITLE, KYODO), fingerprint(OTHER_TITLE, OTHER)) is None


def test_identical_text_is_exact_whatever_the_headline_or_spacing() -> None:
    respaced = KYODO.replace("\n", " ").replace("  ", " ").upper()
    match = is_near_duplicate(fingerprint(KYODO_TITLE, KYODO), fingerprint("Another headline", respaced))
    assert match is not None
    assert (match.kind, match.jaccard) == ("exact", 1.0)


def test_japanese_uses_character_shingles_and_finds_the_reprint() -> None:
    assert shingle_size(tokenise(JA)) == CJK_SHINGLE
    assert tokenise("防衛費8.7兆円") == ["防", "衛", "費", "8", "7", "兆", "円"]
    original = fingerprint(JA_TITLE, JA)
    assert is_near_duplicate(original, fingerprint(JA_REPRINT_TITLE, JA_REPRINT)) is not None
    assert is_near_duplicate(original, fingerprint(JA_TITLE, JA_OTHER)) is None


def test_korean_uses_word_shingles_and_finds_the_reprint() -> None:
    assert shingle_size(tokenise(KO)) == WORD_SHINGLE
    original = fingerprint(KO_TITLE, KO)
    assert is_near_duplicate(original, fingerprint(KO_REPRINT_TITLE, KO_REPRINT)) is not None
    assert is_near_duplicate(original, fingerprint(KO_TITLE, KO_OTHER)) is None


def test_full_width_and_case_variants_normalise_alike() -> None:
    assert tokenise("ＴＯＫＹＯ (Kyodo) -- Ｊａｐａｎ'ｓ") == tokenise("Tokyo (KYODO) -- japan's")


def test_two_different_briefs_from_one_template_do_not_collide() -> None:
    a, b = fingerprint("Tokyo stocks", BRIEF_A), fingerprint("Tokyo stocks", BRIEF_B)
    assert a.shingles < DuplicateRule().short_shingles
    assert is_near_duplicate(a, b) is None
    assert is_near_duplicate(a, fingerprint("Tokyo stocks close higher", BRIEF_A)) is not None


def test_tiny_and_empty_texts_match_only_exactly() -> None:
    assert (
        is_near_duplicate(fingerprint(None, "Breaking news"), fingerprint(None, "Breaking news update"))
        is None
    )
    assert (
        is_near_duplicate(fingerprint(None, "Breaking news"), fingerprint(None, "breaking NEWS!")) is not None
    )
    empty = fingerprint(None, "")
    assert empty.shingles == 0
    assert is_near_duplicate(empty, fingerprint(None, "")) is None


def test_title_only_item_is_fingerprinted_on_its_title() -> None:
    fp = fingerprint("Earthquake of magnitude 6.1 strikes off Japan's northeast coast", "")
    assert fp.tokens == 11
    assert fp.shingles > 0


def test_same_headline_update_is_accepted_at_a_lower_resemblance() -> None:
    # A re-edited version: same headline, most paragraphs kept, one rewritten, one added.
    paragraphs = KYODO.split("\n\n")
    paragraphs[2] = (
        "Hayashi, the government's top spokesman, said the increase reflected a sharply deteriorating "
        "regional situation and repeated that Japan would remain a peace-loving nation."
    )
    paragraphs.append(
        "The budget is expected to be submitted to the Diet in January and enacted by the end of March, "
        "as the ruling coalition holds a comfortable majority in both chambers."
    )
    updated = "\n\n".join(paragraphs)
    a, b = fingerprint(KYODO_TITLE, KYODO), fingerprint(KYODO_TITLE, updated)
    match = is_near_duplicate(a, b)
    assert match is not None
    assert match.title_similarity == 1.0
    strict = DuplicateRule(title_jaccard=1.0, containment=1.01)
    assert (strict.judge(a, b) is None) == (match.jaccard < strict.jaccard)


def test_containment_estimate() -> None:
    # A 100-shingle text wholly inside a 300-shingle one: J = 100/300.
    assert containment(1 / 3, 100, 300) == pytest.approx(1.0)
    assert containment(0.0, 100, 300) == 0.0
    assert containment(0.5, 0, 300) == 0.0


def test_lead_paragraphs_reprinted_alone_are_found_by_containment() -> None:
    # Newspapers often run only the first paragraphs of a wire story.
    lead = "\n\n".join(KYODO.split("\n\n")[:3])
    full, short = fingerprint(KYODO_TITLE, KYODO), fingerprint("Defense budget", lead)
    match = is_near_duplicate(full, short)
    assert match is not None
    assert match.jaccard < DuplicateRule().jaccard
    assert containment(match.jaccard, full.shingles, short.shingles) >= 0.9


def test_fingerprint_bytes_and_pickle_round_trip() -> None:
    fp = fingerprint(JA_TITLE, JA)
    data = fp.to_bytes()
    assert isinstance(data, bytes)
    assert len(data) < 700
    back = Fingerprint.from_bytes(data)
    assert back == fp
    assert back.signature.dtype == np.uint32
    assert np.array_equal(back.signature, fp.signature)
    assert (back.title, back.tokens, back.shingles, back.digest) == (
        fp.title,
        fp.tokens,
        fp.shingles,
        fp.digest,
    )
    assert pickle.loads(pickle.dumps(fp)) == fp
    assert hash(back) == hash(fp)
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(data[:-4])


def test_fingerprint_is_deterministic_and_frozen() -> None:
    a, b = fingerprint(KYODO_TITLE, KYODO), fingerprint(KYODO_TITLE, KYODO)
    assert a == b
    assert a.num_perm == DEFAULT_NUM_PERM
    with pytest.raises(ValueError):
        a.signature[0] = 1


def test_fingerprints_of_different_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        is_near_duplicate(fingerprint(None, KYODO), fingerprint(None, KYODO, num_perm=64))
    with pytest.raises(ValueError):
        NearDuplicateIndex().add("a", fingerprint(None, KYODO, num_perm=64))


def test_index_query_add_remove() -> None:
    index = NearDuplicateIndex()
    index.add("kyodo", fingerprint(KYODO_TITLE, KYODO))
    index.add("other", fingerprint(OTHER_TITLE, OTHER))
    index.add("ja", fingerprint(JA_TITLE, JA))
    index.add("copy", fingerprint("Copied verbatim", KYODO))
    assert len(index) == 4
    assert "kyodo" in index and "missing" not in index

    matches = index.query(fingerprint(MAINICHI_TITLE, MAINICHI), exclude="nothing")
    assert [m.article_id for m in matches] in (["kyodo", "copy"], ["copy", "kyodo"])
    assert all(m.kind == "near" for m in matches)

    exact_first = index.query(fingerprint(KYODO_TITLE, KYODO), exclude="kyodo")
    assert [(m.article_id, m.kind) for m in exact_first] == [("copy", "exact")]

    index.remove("kyodo")
    index.remove("kyodo")  # unknown ids are ignored
    assert "kyodo" not in index and len(index) == 3
    assert [m.article_id for m in index.query(fingerprint(MAINICHI_TITLE, MAINICHI))] == ["copy"]
    index.remove("copy")
    assert index.query(fingerprint(MAINICHI_TITLE, MAINICHI)) == []
    assert [m.article_id for m in index.query(fingerprint(JA_REPRINT_TITLE, JA_REPRINT))] == ["ja"]


def test_index_add_again_replaces_and_empty_texts_are_kept_but_never_match() -> None:
    index = NearDuplicateIndex()
    index.add("a", fingerprint(KYODO_TITLE, KYODO))
    index.add("a", fingerprint(JA_TITLE, JA))
    assert len(index) == 1
    assert index.query(fingerprint(KYODO_TITLE, KYODO)) == []
    index.add("empty", fingerprint(None, ""))
    assert "empty" in index
    assert index.query(fingerprint(None, "")) == []
    index.remove("empty")
    assert list(index) == ["a"]


def test_lsh_bands_recall_the_threshold() -> None:
    for threshold, num_perm in [(0.3, 128), (0.5, 128), (0.8, 64), (0.3, 256)]:
        bands, rows = lsh_bands(threshold, num_perm)
        assert bands * rows <= num_perm
        assert 1 - (1 - threshold**rows) ** bands >= 0.95
    with pytest.raises(ValueError):
        lsh_bands(1.0, 128)


def test_index_finds_copies_among_many_overlapping_articles() -> None:
    # Each noise text quotes one sentence of the Kyodo story among three of other reporting: a
    # candidate for the LSH, never a copy.
    kyodo = [s for s in KYODO.replace("\n", " ").split(". ") if s]
    other = [s for s in OTHER.replace("\n", " ").split(". ") if s]
    index = NearDuplicateIndex()
    for n, combo in enumerate(itertools.islice(itertools.permutations(other, 3), 300)):
        index.add(f"noise/{n}", fingerprint(None, ". ".join([kyodo[n % len(kyodo)], *combo])))
    index.add("kyodo", fingerprint(KYODO_TITLE, KYODO))
    assert [m.article_id for m in index.query(fingerprint(MAINICHI_TITLE, MAINICHI))] == ["kyodo"]


def test_bbc_duplicate_groups(shared_data: Path) -> None:
    directory = shared_data / "summaries" / "bbc-news-summary"
    groups = json.loads((directory / "derived_duplicate_groups.json").read_text(encoding="utf-8"))
    exact = [g["ids"] for g in groups if g["relation"] == "exact_duplicate_after_token_normalisation"]
    wanted = {i for ids in exact for i in ids}
    articles = {}
    with gzip.open(directory / "bbc_news_summary.jsonl.gz", "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            row = json.loads(line)
            if row["id"] in wanted or n % 10 == 0:
                title, _, body = row["article"].partition("\n")
                articles[row["id"]] = fingerprint(title, body)
    index = NearDuplicateIndex()
    for article_id, fp in articles.items():
        index.add(article_id, fp)
    for a, b in exact:
        assert b in [m.article_id for m in index.query(articles[a], exclude=a)]
