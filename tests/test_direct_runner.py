"""pipeline.direct_runner: the FnApiRunner sends a stage's input in bounded messages, and computes the same."""
import signal

import apache_beam as beam
import pytest
from apache_beam.coders import coders
from apache_beam.coders.coder_impl import create_InputStream, create_OutputStream
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import execution, fn_runner
from apache_beam.runners.worker import data_plane
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import core
from apache_beam.transforms.window import GlobalWindows

from wiredesk.pipeline import direct_runner


def _buffer(items, value_coder=None, append=None):
    """A GroupingBuffer of ``items`` filled by ``append`` (Beam's, unless given), and its post-grouped coder."""
    value_coder = value_coder or coders.BytesCoder()
    kv = coders.TupleCoder([coders.StrUtf8Coder(), value_coder])
    pre = coders.WindowedValueCoder(kv)
    post = coders.WindowedValueCoder(coders.TupleCoder([coders.StrUtf8Coder(),
                                                        coders.IterableCoder(value_coder)]))
    buf = execution.GroupingBuffer(pre, post, core.Windowing(GlobalWindows()))
    (append or _beams("append"))(buf, _elements(items, pre))
    return buf, post


def _elements(items, pre_grouped_coder) -> bytes:
    """``items`` as the data-plane bytes a GroupingBuffer's ``append`` receives."""
    out = create_OutputStream()
    for k, v in items:
        pre_grouped_coder.get_impl().encode_to_stream(GlobalWindows.windowed_value((k, v)), out, True)
    return out.get()


def _beams(method: str):
    """Beam's own GroupingBuffer method, whether or not a run in this process has replaced it."""
    return direct_runner.BEAM_METHODS.get(method, getattr(execution.GroupingBuffer, method))


def _decoded(parts, post):
    got = {}
    for chunk in parts:
        stream = create_InputStream(chunk)
        while stream.size() > 0:
            key, values = post.get_impl().decode_from_stream(stream, True).value
            got[key] = sorted(values)
    return got


def test_a_grouped_part_is_cut_in_chunks_of_whole_elements_with_the_same_groups(monkeypatch):
    monkeypatch.setattr(direct_runner, "CHUNK_BYTES", 20_000)
    items = [(f"k{i % 300}", bytes([i % 251]) * 200) for i in range(3000)]
    ours, post = _buffer(items)
    beams, _ = _buffer(items)
    parts = direct_runner.chunked_partition(ours, 2)
    assert all(len(p) > 10 for p in parts)  # 3000 x 200 bytes in two parts of 20 KB chunks
    assert max(len(c) for p in parts for c in p) < 20_000 + 10 * 202 + 100  # a chunk passes the cut by one key
    assert direct_runner.chunked_partition(ours, 2) is parts  # partitioned once, as Beam's
    # Beam's own partition: the same keys in the same parts, each with the same values
    for mine, theirs in zip(parts, _beams("partition")(beams, 2)):
        assert _decoded(mine, post) == _decoded(theirs, post)


_ROW = coders.TupleCoder([coders.StrUtf8Coder(), coders.FloatCoder(), coders.BytesCoder()])


def _rows(n):
    return [(f"k{i % 37}", (f"source.example/article-{i:08d}", i / 7.0, bytes([i % 256]) * 16)) for i in range(n)]


def test_values_kept_encoded_group_as_beams_decoded_values():
    items = _rows(3000)
    ours, post = _buffer(items, _ROW, direct_runner.encoded_append)
    assert all(isinstance(v, bytes) for vs in ours._table.values() for v in vs)
    beams, post = _buffer(items, _ROW)
    for mine, theirs in zip(direct_runner.chunked_partition(ours, 2), _beams("partition")(beams, 2)):
        assert _decoded(mine, post) == _decoded(theirs, post)


def test_a_buffer_beams_append_filled_is_partitioned_as_decoded_values():
    """After a run in this process has patched the runner, a buffer Beam's own append filled (decoded values)
    still partitions: chunked_partition decodes only what encoded_append encoded."""
    items = _rows(500)
    decoded, post = _buffer(items, _ROW)
    encoded, _ = _buffer(items, _ROW, direct_runner.encoded_append)
    assert _decoded(direct_runner.chunked_partition(decoded, 2)[0], post) == \
        _decoded(direct_runner.chunked_partition(encoded, 2)[0], post)


def test_an_encoded_buffer_extended_into_another_partitions_as_beams():
    """GroupingBuffer.extend copies encoded values: the buffer they land in is known to hold them encoded."""
    items = _rows(300)
    encoded, post = _buffer(items, _ROW, direct_runner.encoded_append)
    target, _ = _buffer([], _ROW)
    direct_runner.marked_extend(target, encoded)
    beams, _ = _buffer(items, _ROW)
    assert _decoded(direct_runner.chunked_partition(target, 1)[0], post) == _decoded(_beams("partition")(beams, 1)[0],
                                                                                      post)


def test_beams_append_after_its_own_keeps_a_buffer_decoded():
    """A buffer Beam's append began stays decoded when encoded_append adds to it (no mix of the two forms)."""
    items = _rows(200)
    buf, post = _buffer(items[:100], _ROW)
    direct_runner.encoded_append(buf, _elements(items[100:], buf._pre_grouped_coder))
    assert not any(isinstance(v, bytes) for vs in buf._table.values() for v in vs)
    got = _decoded(direct_runner.chunked_partition(buf, 1)[0], post)
    assert sum(len(v) for v in got.values()) == 200


def test_values_kept_encoded_hold_under_half_the_memory_of_beams_decoded_values():
    import tracemalloc

    items = _rows(20_000)
    held = {}
    for name, append in (("encoded", direct_runner.encoded_append), ("beam", None)):
        tracemalloc.start()
        buf, _ = _buffer(items, _ROW, append)
        held[name] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del buf
    # a (str, float, bytes) row is four objects decoded (about 230 bytes), one bytes object encoded (about 100)
    assert held["encoded"] < 0.5 * held["beam"], held


def test_an_empty_part_is_one_empty_byte_string_as_in_beam():
    buf, _ = _buffer([("a", b"x")])
    assert direct_runner.chunked_partition(buf, 3)[1:] == [[b""], [b""]]


@pytest.fixture
def data_messages(monkeypatch):
    """Sizes of the data messages this process's gRPC data channels send (the runner's, to its worker)."""
    sizes = []
    original = data_plane._GrpcDataChannel._enqueue_to_send

    def recording(self, elem):
        if hasattr(elem, "data") and elem.data:
            sizes.append(len(elem.data))
        return original(self, elem)

    monkeypatch.setattr(data_plane._GrpcDataChannel, "_enqueue_to_send", recording)
    # Beam's own methods for the test, whether or not a run in this process has replaced them
    beams = direct_runner.BEAM_METHODS
    monkeypatch.setattr(execution.GroupingBuffer, "partition",
                        beams.get("partition", execution.GroupingBuffer.partition))
    monkeypatch.setattr(execution.GroupingBuffer, "append", beams.get("append", execution.GroupingBuffer.append))
    monkeypatch.setattr(fn_runner.BundleManager, "_send_input_to_worker",
                        beams.get("send_input", fn_runner.BundleManager._send_input_to_worker))
    monkeypatch.setattr(direct_runner, "_APPLIED", False)
    return sizes


def _run_grouping(total_mb: int):
    """A GroupByKey of ``total_mb`` MB of values on the FnApiRunner with a gRPC worker; its result."""
    options = PipelineOptions(["--direct_running_mode=multi_threading", "--direct_num_workers=1"])
    with beam.Pipeline(runner=fn_runner.FnApiRunner(), options=options) as p:
        sums = (
            p
            | beam.Create(range(total_mb * 64))
            | beam.Map(lambda i: (f"k{i % 97}", bytes([i % 256]) * 16_384))
            | beam.GroupByKey()
            | beam.MapTuple(lambda k, vs: (k, sum(v[0] for v in vs), len(list(vs))))
        )
        expected = []
        for k in range(97):
            vals = [i for i in range(total_mb * 64) if i % 97 == k]
            expected.append((f"k{k}", sum(i % 256 for i in vals), len(vals)))
        assert_that(sums, equal_to(expected))


def test_beams_runner_sends_a_stage_input_as_one_message(data_messages):
    _run_grouping(24)
    assert max(data_messages) > 24 << 20  # the whole grouped input at once: why this module exists


def test_with_bound_messages_no_message_passes_the_data_planes_threshold(data_messages):
    direct_runner.bound_messages()
    _run_grouping(24)
    assert sum(data_messages) > 24 << 20
    assert max(data_messages) < (10 << 20) + direct_runner.CHUNK_BYTES + (1 << 20)


def test_with_tight_queues_every_message_arrives_and_the_result_is_the_same(data_messages, monkeypatch):
    """The input goes out from a thread while the bundle runs (``send_input_flushed``): with the data plane's
    queues tightened (a worker keeps 1 message of a bundle it has not started, the runner's send queues 1 MB)
    the run ends, with every element. (In this process gRPC buffers enough that Beam's order, inputs before the
    request, does not stall here; with worker processes and 32,000 articles it did.)"""
    monkeypatch.setattr(data_plane, "_DEFAULT_RECEIVE_QUEUE_MAX_ELEMENTS", 1)
    monkeypatch.setattr(data_plane, "_DEFAULT_SEND_QUEUE_MAX_BYTES", 1 << 20)

    def stalled(signum, frame):
        raise TimeoutError("the run stalled")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(120)
    try:
        direct_runner.bound_messages()
        _run_grouping(40)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(data_messages) >= 5
