"""build_pipeline under TestPipeline: stage outputs and the no-loss identity."""
import json

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from wiredesk.pipeline.build import build_pipeline


def count(pcoll, label):
    return pcoll | f"Count{label}" >> beam.combiners.Count.Globally()


def test_build_pipeline_outputs_and_identity(tmp_path):
    src = tmp_path / "wire.jsonl"
    rows = [
        {"id": "s1", "source": "AP", "headline": "Quake hits coast", "body": "WASHINGTON (AP) - A strong quake hit.",
         "published_at": "2019-05-15T08:00:00+02:00", "version": 1},
        {"id": "s1", "source": "AP", "headline": "Quake hits coast, 3 dead", "body": "A strong quake hit. Three died.",
         "published_at": "2019-05-15T08:00:00+02:00", "version": 2},
        {"id": "s2", "source": "AP", "headline": "Bad date", "body": "text", "published_at": "yesterday"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    options = PipelineOptions(["--input", str(src)])
    with TestPipeline(options=options) as p:
        out = build_pipeline(p, options, output_dir="")
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.version, a.published_at, a.dateline)),
                    equal_to([("AP/s1", 2, "2019-05-15T06:00:00Z", None)]), label="current version in UTC")
        assert_that(out["rejects"] | beam.Map(lambda r: r.stage), equal_to(["read", "normalize"]),
                    label="one reject per stage")
        assert_that(out["superseded"] | beam.Map(lambda s: (s.article_id, s.version)), equal_to([("AP/s1", 1)]),
                    label="superseded version")
        read = (out["records"], out["read_rejects"]) | "ReadAll" >> beam.Flatten()
        left = count(read, "Read")
        right = ((out["articles"], out["rejects"], out["superseded"]) | "Outcomes" >> beam.Flatten()
                 | "CountOutcomes" >> beam.combiners.Count.Globally())
        # 3 parsed records + 1 unparseable line = 1 article + 2 rejects + 1 superseded version.
        assert_that((left, right) | "Both" >> beam.Flatten() | beam.combiners.ToList()
                    | beam.Map(sorted), equal_to([[4, 4]]), label="records read = outcomes")


def test_reader_warnings_reach_the_article():
    """What a reader repaired or guessed travels onto the article (articles.warnings), never silently."""
    from wiredesk.transforms.formats.common import new_record
    from wiredesk.transforms.normalize import to_article
    rec = new_record(article_id="1", input_format="rss", origin="f.xml", position="entry 1", ingested_at=None,
                     raw="", source="Feed", headline="Bridge closes", body="The bridge closed today.",
                     warnings=["caption dropped: media:description"])
    assert to_article(rec).warnings == ["caption dropped: media:description"]
    assert to_article(rec._replace(warnings=[])).warnings == []


def test_warning_kinds_name_their_counters():
    from wiredesk.transforms.normalize import warning_kind
    assert warning_kind("charset guessed: windows-1252") == "charset_guessed"
    assert warning_kind("lenient feed parse: <unknown>:3:4: undefined entity") == "lenient_feed_parse"
    assert warning_kind("ambiguous date 02-03-2014 read day-first as 2014-03-02") == "ambiguous_date"
    assert warning_kind("media caption dropped: 'image' is not story text") == "media_caption_dropped"
    assert warning_kind("") == "other"


def test_normalize_counts_each_warning_kind():
    from apache_beam.metrics.metric import MetricsFilter

    from wiredesk.transforms.formats.common import new_record
    from wiredesk.transforms.normalize import Normalize
    recs = [new_record(article_id=str(i), input_format="rss", origin="f.xml", position=f"entry {i}",
                       ingested_at=None, raw="", source="Feed", headline="Bridge closes", body="The bridge closed.",
                       warnings=w) for i, w in enumerate([["charset guessed: koi8-r"],
                                                          ["charset guessed: cp1255", "caption dropped: x"], []])]
    p = TestPipeline()
    _ = p | beam.Create(recs) | Normalize(4096)
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query(MetricsFilter().with_namespace("wiredesk.normalize"))["counters"]
                if c.key.metric.name.startswith("warning_")}
    assert counters == {"warning_charset_guessed": 2, "warning_caption_dropped": 1}
