"""wiredesk on Beam's Dask runner, against a local Dask cluster: a scheduler and two workers, separate processes
on 127.0.0.1, started and stopped here (their process groups are killed also when a test fails).

What Beam 2.77's Dask runner lacks, and what wiredesk does about it (README, "Runners"):

- a ParDo with tagged outputs hands every output to each consumer: wiredesk's own steps with outputs use
  ``ParDoOutputs`` (single-output ParDo + a typed pick per output; side inputs pass through,
  ``test_dask_outputs_with_side_inputs``), so read -> normalize -> versions -> dedup runs there and gives the
  DirectRunner's records (``test_dask_stages_equal_direct``);
- a DoFn's ``finish_bundle`` outputs are dropped (the runner collects a bundle's outputs before calling it):
  ``BatchElements``, and so ``RunInference``, lose each bundle's last batch; the NER step forms its batches with a
  GroupByKey instead, and ``fileio.WriteToFiles`` (tagged and ``finish_bundle`` outputs inside) is replaced by
  the write stage's own ParDo + GroupByKey steps (``test_dask_entities_and_tables``);
- a Flatten concatenates its inputs' partitions and a GroupByKey keeps its input's count, so every join adds its
  inputs' partitions, and a step that joins in rounds doubles them per round: ``wiredesk run`` runs Beam's Dask
  runner as ``wiredesk.pipeline.dask_runner.DaskRunner``, whose Flatten is repartitioned to its widest input
  (``test_chained_joins_keep_their_partitions``), so the events stage's join rounds stay at the count they start
  with;
- only the branch that ends in the pipeline's last step is computed (wiredesk's last step, the counts, depends
  on every table's files, so nothing is left out);
- no metrics (``DaskRunnerResult.metrics`` raises; wiredesk prints no counters, its manifest counts come from
  the pipeline itself).

- ``Top.Of`` in the global window emits each bundle's best from ``finish_bundle``, so it gave ``[]`` (the events
  stage's background sample): wiredesk's runner gives its merge step each element as a bundle of its own
  (``test_dask_top_of``).

- a ParDo hands every partition's task one output list, made when the graph is built: where tasks share the
  object (one deserialized copy in a worker, or a local scheduler) a bundle's output repeats the bundles' before
  it (the events stage's document frequencies counted each article two to ten times: 28 events against 24):
  wiredesk's runner makes the receivers in each bundle (``test_pardo_bundles_do_not_share_their_output``), and
  computes side inputs without dask's graph fusion (a whole run once failed with a cycle between fused keys).

A whole ``wiredesk run`` finishes on wiredesk's Dask runner (no partition blow-up) with the DirectRunner's tables,
with and without the ECB+ stories (``test_dask_run_equals_direct``).
"""
import json
import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from runner_helpers import (
    ECBPLUS,
    VENV_BIN,
    assert_same_rows,
    log_tail,
    run_wiredesk,
    services,
    small_inputs,
    table_rows,
)

DASK_RUNNER = "--runner=apache_beam.runners.dask.dask_runner.DaskRunner"
#: Address space the launcher of the whole run may take (it builds and ships the Dask graph).
DRIVER_MEMORY = 8 * 2**30
distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (make install adds it)")


def run_to_end(p: beam.Pipeline) -> None:
    """Run ``p`` and wait for it; the Dask runner leaves its client open, so close it (also on failure)."""
    result = p.run()
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)
        if client is not None:
            client.close()


@pytest.fixture
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` on a port of its choice (read from its scheduler file) and two ``dask worker``s, fresh
    for every test: Beam's Dask runner names its tasks by a hash of the step and its input, so two pipelines on one
    scheduler can share task keys, and the scheduler warned of that ("different run_spec for key ... can cause
    deadlocks") before a whole run that passes alone in 49 s hung for 600 s after the tests before it."""
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    dask = str(VENV_BIN / "dask")
    worker = [dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-nanny",
              "--no-dashboard", "--memory-limit", "0"]
    logs = tmp / "logs"
    with services([[dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                    "--scheduler-file", str(scheduler_file)]], logs / "scheduler", cwd=tmp) as scheduler:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if scheduler[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start:\n{log_tail(logs / 'scheduler')}")
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        with services([worker + ["--name", f"w{n}", "--local-directory", str(tmp / f"w{n}")] for n in (1, 2)],
                      logs / "workers", cwd=tmp) as workers:
            with distributed.Client(address, timeout=60) as client:
                client.wait_for_workers(2, timeout=120)
            yield {"address": address, "procs": scheduler + workers, "logs": logs}


def stage_records(argv, inputs, out_file):
    """read -> normalize -> versions -> dedup on the runner of ``argv``; every output record, as
    ``[table, repr]``, into ``out_file`` (one JSON list written by the last step, so Dask computes it all)."""
    from wiredesk.pipeline.options import dedup_config
    from wiredesk.schemas.records import RAW_MAX_CHARS
    from wiredesk.transforms.dedup import NearDuplicates
    from wiredesk.transforms.normalize import Normalize
    from wiredesk.transforms.read import ReadWire
    from wiredesk.transforms.versions import ResolveVersions

    options = PipelineOptions(argv)
    p = beam.Pipeline(options=options)
    read = p | "Read" >> ReadWire(inputs)
    normalized = read["records"] | "Normalize" >> Normalize(RAW_MAX_CHARS)
    versions = normalized["articles"] | "Versions" >> ResolveVersions()
    deduped = versions["articles"] | "NearDuplicates" >> NearDuplicates(dedup_config(options))
    named = {"read_rejects": read["rejects"], "normalize_rejects": normalized["rejects"],
             "superseded": versions["superseded"], "articles": deduped["articles"],
             "duplicates": deduped["duplicates"]}

    def write(records):
        out_file.write_text(json.dumps(sorted(records)))

    ([pcoll | f"Repr[{name}]" >> beam.Map(lambda r, name=name: [name, repr(tuple(r))])
      for name, pcoll in named.items()]
     | "All" >> beam.Flatten() | "Collect" >> beam.combiners.ToList() | "Write" >> beam.Map(write))
    run_to_end(p)
    return json.loads(out_file.read_text())


def test_dask_stages_equal_direct(dask_cluster, tmp_path):
    inputs = small_inputs(tmp_path)
    direct = stage_records([], inputs, tmp_path / "direct.json")
    on_dask = stage_records([DASK_RUNNER, f"--dask_client_address={dask_cluster['address']}"], inputs,
                            tmp_path / "dask.json")
    assert all(p.poll() is None for p in dask_cluster["procs"]), log_tail(dask_cluster["logs"] / "workers")
    kinds = {name for name, _ in direct}
    assert {"articles", "duplicates"} <= kinds
    assert on_dask == direct


def test_dask_outputs_with_side_inputs(dask_cluster, tmp_path):
    """ParDoOutputs with side inputs (as the events stage's assignment step needs) on the Dask workers."""
    from wiredesk.transforms.outputs import ParDoOutputs

    class ScaleFn(beam.DoFn):  # local: pickled by value, the workers cannot import this module
        def process(self, n, factor, offsets):
            if n < 0:
                yield beam.pvalue.TaggedOutput("negative", n)
            else:
                yield n * factor + offsets.get(n, 0)

    out_file = tmp_path / "out.json"

    def write(found):
        out_file.write_text(json.dumps(sorted(found)))

    p = beam.Pipeline(options=PipelineOptions([DASK_RUNNER, f"--dask_client_address={dask_cluster['address']}"]))
    numbers = p | "Numbers" >> beam.Create([-1, 1, 2])
    out = numbers | ParDoOutputs(ScaleFn(), {"scaled": int, "negative": int},
                                 beam.pvalue.AsSingleton(p | "Factor" >> beam.Create([10])),
                                 offsets=beam.pvalue.AsDict(p | "Offsets" >> beam.Create([(2, 5)])))
    ([out[name] | f"Name[{name}]" >> beam.Map(lambda n, name=name: [name, n]) for name in ("scaled", "negative")]
     | beam.Flatten() | beam.combiners.ToList() | beam.Map(write))
    run_to_end(p)
    assert json.loads(out_file.read_text()) == [["negative", -1], ["scaled", 10], ["scaled", 25]]


def test_dask_entities_and_tables(dask_cluster, tmp_path):
    """The NER step (batches from a GroupByKey, no finish_bundle output) and the write stage (no
    fileio.WriteToFiles) on the Dask workers: every article once with the DirectRunner's entities, and the
    DirectRunner's files with the same bytes."""
    from dedup_helpers import make_article

    from wiredesk.transforms.entities import ExtractEntities
    from wiredesk.transforms.write import SORT_KEYS, WriteTable

    people = ["Barack Obama", "Angela Merkel", "Emmanuel Macron", "Narendra Modi", "Jacinda Ardern"]
    places = ["Paris", "Berlin", "Tokyo", "Nairobi", "Lima", "Toronto"]
    arts = [make_article(f"A/{i}", f"{people[i % 5]} arrived in {places[i % 6]} on day {i} to meet officials.",
                         published_at=f"2024-03-{10 + i % 3:02d}T10:00:00Z") for i in range(300)]

    def run(argv, name):
        out_file = tmp_path / f"{name}.json"

        def write(rows):
            out_file.write_text(json.dumps(sorted(rows)))

        p = beam.Pipeline(options=PipelineOptions(argv))
        analysed = p | beam.Create(arts) | ExtractEntities()
        files = analysed | WriteTable(str(tmp_path / name), "articles", SORT_KEYS["articles"], 20_000)
        rows = analysed | beam.Map(lambda a: [a.article_id, [list(e) for e in a.entities]])
        # One last step over both branches, so Dask computes them all.
        ((rows, files | beam.Map(lambda path: ["file", path.rsplit("/articles/", 1)[1]]))
         | beam.Flatten() | beam.combiners.ToList() | beam.Map(write))
        run_to_end(p)
        files = {f.relative_to(tmp_path / name).as_posix(): f.read_bytes()
                 for f in (tmp_path / name).rglob("*.parquet")}
        return json.loads(out_file.read_text()), files

    direct = run([], "direct")
    on_dask = run([DASK_RUNNER, f"--dask_client_address={dask_cluster['address']}"], "dask")
    assert len([r for r in direct[0] if r[0] != "file"]) == 300
    assert sum(bool(r[1]) for r in direct[0] if r[0] != "file") >= 250
    assert on_dask[0] == direct[0]
    assert sorted(on_dask[1]) == sorted(direct[1]) and len(direct[1]) > 3
    assert on_dask[1] == direct[1]


def test_dask_top_of(dask_cluster, tmp_path):
    """``Top.Of`` (key, reverse) and a side input of it on wiredesk's Dask runner give the DirectRunner's lists."""
    from wiredesk.pipeline.dask_runner import DaskRunner

    words = [f"w{(n * 7919) % 1000:03d}" for n in range(300)]

    def run(runner, argv, name):
        out_file = tmp_path / f"{name}.json"

        def write(found):
            out_file.write_text(json.dumps(sorted(found)))

        p = beam.Pipeline(runner=runner, options=PipelineOptions(argv))
        xs = p | beam.Create(words)
        top = xs | "Top" >> beam.combiners.Top.Of(5, key=lambda w: w[::-1], reverse=True)
        picked = (xs | "InTop" >> beam.Filter(lambda w, t: w in t, t=beam.pvalue.AsSingleton(top))
                  | "Picked" >> beam.combiners.ToList())
        ((top | "NameTop" >> beam.Map(lambda t: ["top", t]),
          picked | "NamePicked" >> beam.Map(lambda t: ["picked", sorted(t)]))
         | beam.Flatten() | beam.combiners.ToList() | beam.Map(write))
        run_to_end(p)
        return json.loads(out_file.read_text())

    direct = run(None, [], "direct")
    on_dask = run(DaskRunner(), [DASK_RUNNER, f"--dask_client_address={dask_cluster['address']}"], "dask")
    assert len(dict(direct)["top"]) == 5
    assert on_dask == direct


def test_dask_run_equals_direct_without_ecbplus(dask_cluster, tmp_path):
    """The whole run on Dask equals the DirectRunner's on the seeds and four wire records (duplicates, versions,
    events, every table)."""
    inputs = small_inputs(tmp_path, ecbplus=False)
    on_dask = run_wiredesk(inputs, tmp_path / "dask", DASK_RUNNER,
                           f"--dask_client_address={dask_cluster['address']}", memory_limit=DRIVER_MEMORY)
    assert on_dask.returncode == 0, on_dask.stderr[-3000:]
    direct = run_wiredesk(inputs, tmp_path / "direct")
    assert direct.returncode == 0, direct.stderr[-3000:]
    rows = table_rows(tmp_path / "direct")
    assert rows["articles"] and rows["events"]
    assert_same_rows(table_rows(tmp_path / "dask"), rows)


@pytest.mark.skipif(not ECBPLUS.exists(), reason="needs the shared ECB+ data (../shared/data/ecbplus)")
def test_dask_run_equals_direct(dask_cluster, tmp_path):
    """The whole run on Dask equals the DirectRunner's with the first ECB+ stories too (multi-article events):
    with Beam's ParDo receivers shared across bundles it gave 28 events against 24."""
    inputs = small_inputs(tmp_path)
    on_dask = run_wiredesk(inputs, tmp_path / "dask", DASK_RUNNER,
                           f"--dask_client_address={dask_cluster['address']}", memory_limit=DRIVER_MEMORY)
    assert on_dask.returncode == 0, on_dask.stderr[-3000:]
    direct = run_wiredesk(inputs, tmp_path / "direct")
    assert direct.returncode == 0, direct.stderr[-3000:]
    assert_same_rows(table_rows(tmp_path / "dask"), table_rows(tmp_path / "direct"))


def test_chained_joins_keep_their_partitions():
    """Ten JoinByKey rounds translated into Dask bags (no cluster, nothing computed): Beam's runner doubles the
    partitions each round, wiredesk's keeps the 8 of the input."""
    from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner
    from apache_beam.runners.dask.overrides import dask_overrides

    from wiredesk.pipeline.dask_runner import DaskRunner
    from wiredesk.transforms.join import JoinByKey

    def partitions(runner):
        p = beam.Pipeline(options=PipelineOptions([DASK_RUNNER]))
        pairs = p | beam.Create([(n % 100, n) for n in range(1000)])  # 128 a partition: 8
        for r in range(10):
            joined = {"a": pairs, "b": pairs} | f"Join{r}" >> JoinByKey()
            pairs = joined | f"Values{r}" >> beam.FlatMap(lambda kv: [(kv[0], v) for v in kv[1]["a"]])
        p.replace_all(dask_overrides())
        visitor = runner.to_dask_bag_visitor()
        p.visit(visitor)
        return {node.full_label: bag.npartitions for node, bag in visitor.bags.items()}

    beams, ours = partitions(BeamDaskRunner), partitions(DaskRunner)
    assert beams["Join9/Group/GroupByKey"] == 8 * 2 ** 10
    assert max(ours.values()) == 8 and ours["Join9/Group/GroupByKey"] == 8


def dask_bags(p: beam.Pipeline, runner, npartitions: int = 4) -> dict:
    """``p`` translated by ``runner``'s visitor as a runner gets it (rebuilt from its proto, where side inputs
    become placeholders the invoker fills, with Beam's Dask overrides): step label -> its dask bag."""
    from apache_beam.runners.dask.overrides import dask_overrides

    p = beam.Pipeline.from_runner_api(p.to_runner_api(), p.runner, p._options)
    p.replace_all(dask_overrides())
    visitor = runner.to_dask_bag_visitor({"npartitions": npartitions})
    p.visit(visitor)
    return {node.full_label: bag for node, bag in visitor.bags.items()}


def test_pardo_bundles_do_not_share_their_output():
    """A ParDo over four Dask partitions, then a GroupByKey, computed in one process (dask's synchronous
    scheduler, no cluster): Beam's ParDo hands every partition one receiver list, so each bundle's output repeats
    the bundles before it (and the groups after it repeat too: the events stage's document frequencies counted
    each article two to ten times on the cluster); wiredesk's gives every element once and one group per key."""
    import dask
    from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner

    from wiredesk.pipeline.dask_runner import DaskRunner

    def computed(runner):
        p = beam.Pipeline(options=PipelineOptions([DASK_RUNNER]))
        tens = p | beam.Create(list(range(8))) | "Tens" >> beam.Map(lambda n: n * 10)
        (tens | "ByRest" >> beam.Map(lambda n: (n % 3, n)) | "Group" >> beam.GroupByKey()
         | "Sorted" >> beam.MapTuple(lambda k, ns: (k, sorted(ns))))
        bags = dask_bags(p, runner)
        with dask.config.set(scheduler="sync"):
            assert bags["Tens"].npartitions == 4
            return sorted(bags["Tens"].compute()), sorted(bags["Sorted"].compute())

    beams_tens, _ = computed(BeamDaskRunner)
    assert len(beams_tens) > 8
    assert computed(DaskRunner) == ([0, 10, 20, 30, 40, 50, 60, 70], [(0, [0, 30, 60]), (1, [10, 40, 70]),
                                                                        (2, [20, 50])])


def _counted(n, path):
    with open(path, "a") as f:  # one line per call, from whichever process runs the task
        f.write(f"{n}\n")
    return n


def test_a_side_input_is_computed_once_for_all_the_tasks_that_read_it(tmp_path):
    """A ParDo over four partitions reading a side input (the total of eight numbers), on dask's process
    scheduler (each task pickled, as on a cluster): Beam's runner computes the side input's bag, with its upstream
    steps, again inside each reading task; wiredesk's makes it one dask task the readers depend on
    (``side_input_values``), so the upstream step runs once per element."""
    import dask

    from wiredesk.pipeline.dask_runner import DaskRunner

    runs = tmp_path / "runs"
    p = beam.Pipeline(options=PipelineOptions([DASK_RUNNER]))
    numbers = p | beam.Create(list(range(8)))
    total = (numbers | "Counted" >> beam.Map(_counted, str(runs))
             | "Total" >> beam.CombineGlobally(sum).without_defaults())
    numbers | "Share" >> beam.Map(lambda n, t: (n, n / t), t=beam.pvalue.AsSingleton(total))
    bags = dask_bags(p, DaskRunner)
    with dask.config.set({"scheduler": "processes", "num_workers": 2, "multiprocessing.context": "fork"}):
        assert bags["Share"].npartitions == 4
        assert sorted(bags["Share"].compute()) == [(n, n / 28) for n in range(8)]
    assert sorted(int(x) for x in runs.read_text().split()) == list(range(8))


def test_the_graph_goes_to_dask_without_bag_optimization(monkeypatch):
    """Beam's run_pipeline optimizes the last bag and computes it; under wiredesk's runner dask's bag
    optimization is off for both (``bag_optimize``: no key culled or fused away), and only there."""
    import dask
    import dask.bag as db
    from apache_beam.runners.dask.dask_runner import DaskRunner as BeamDaskRunner

    from wiredesk.pipeline.dask_runner import DaskRunner

    seen = []

    def fake_run(self, pipeline, options):
        bag = db.from_sequence([1, 2, 3], npartitions=3).map(lambda n: n + 1).map(lambda n: n * 2)
        optimized = dask.optimize(bag)[0]
        seen.append((dask.config.get("bag_optimize", None), len(dict(optimized.__dask_graph__()))))
        return "result"

    monkeypatch.setattr(BeamDaskRunner, "run_pipeline", fake_run)
    p = beam.Pipeline(options=PipelineOptions([DASK_RUNNER]))
    _ = p | beam.Create([1])
    assert DaskRunner().run_pipeline(p, p.options) == "result"
    fake_run(None, None, None)   # outside the runner: dask fuses the two maps of each partition into one task
    assert seen == [(False, 9), (None, 6)]
    assert dask.config.get("bag_optimize", None) is None
