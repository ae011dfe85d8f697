import numpy as np

from tidings.ai.embeddings import UniversalSentenceEncoder
from tidings.stories.similarity import article_similarity, article_vectors, repair_mojibake


def test_mojibake_is_repaired_and_clean_text_left_alone() -> None:
    assert repair_mojibake("4 gÃ¼nlÃ¼k yasak, Ã§ok") == "4 günlük yasak, çok"
    assert repair_mojibake("CafÃ© in MÃ¼nchen") == "Café in München"
    for clean in ("Plain English.", "Café in München", "서울 시내", "東京都"):
        assert repair_mojibake(clean) == clean


def test_related_articles_score_higher_than_unrelated() -> None:
    vectors = article_vectors(
        UniversalSentenceEncoder(),
        [
            ("Typhoon hits Okinawa", "Thousands were evacuated as the storm made landfall."),
            ("沖縄に台風上陸", "嵐の上陸に伴い数千人が避難した。"),
            ("Chip maker profits soar", "Quarterly earnings beat expectations on strong demand."),
        ],
    )
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert article_similarity(vectors[0], vectors[1]) > article_similarity(vectors[0], vectors[2]) + 0.2
