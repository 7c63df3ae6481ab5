"""Articles for the dedup tests (imported as ``dedup_helpers``: tests/ is on sys.path)."""
import random

from wiredesk.schemas.records import Article

VOCAB = ("fire wind town homes police minister council road storm water crews river north "
         "south east west people residents hundred thousand said says today night morning "
         "government federal state report rain heat smoke blaze evacuate highway bridge").split()


def make_article(article_id, body, published_at="2020-01-01T00:00:00Z", source="s",
                 headline=None):
    return Article(
        article_id=article_id, source=source, headline=headline, headline_original=headline,
        body=body, body_original=body, byline=None, dateline=None, credit=None,
        language="en", language_detected=False, url=None, published_at=published_at,
        ingested_at=None, version=None, version_created=None, status="usable", urgency=None,
        subjects=[], content_hash="h:" + article_id, word_count=len(body.split()),
        input_format="jsonl", origin="test", position=article_id, duplicate_of=None,
        event_id=None)


def random_words(n, seed):
    """``n`` words from VOCAB with a number suffix: distinct texts share few shingles."""
    rng = random.Random(seed)
    return [rng.choice(VOCAB) + str(rng.randrange(1000)) for _ in range(n)]


def at(minute):
    return "2020-01-01T00:%02d:00Z" % minute
