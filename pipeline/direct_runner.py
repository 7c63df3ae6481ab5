"""Beam's FnApiRunner (the DirectRunner's batch runner) sending each stage's input in bounded messages.

Beam 2.77's FnApiRunner hands each worker its part of a stage's input as one message, however large:
``GroupingBuffer.partition`` encodes a grouped PCollection's whole part into one byte string, and
``BundleManager._send_input_to_worker`` writes every byte string of the part into one data-plane stream without
flushing it, so ``close()`` makes the whole part one ``Elements.Data``. On its way to the gRPC wire that message
is copied about five times, all alive at once: the stream's buffer, its bytes, the proto, the queued
``Elements`` and the serialized message (memray, 8,000 articles: 1.2 GB of the runner's 1.35 GB peak were
copies of one 200 MB stage input). At 32,000 articles the events stage's blocks are about 800 MB, and the
runner's process peaked at 5.5 GB.

``bound_messages()`` changes three methods of Beam's classes, once per process (and wraps a fourth, below):

* ``GroupingBuffer.append`` keeps each value of a shuffle's input encoded, as the bytes its coder makes, until the
  stage that reads it runs (``encoded_append``). Beam's decodes the values as they arrive and holds the objects
  until then; a named tuple of strings and floats is several Python objects, and the runner held every waiting
  shuffle at more than twice its encoded size (a (str, float, bytes) row: 2.3 times, ``tests/test_direct_runner``);
* ``GroupingBuffer.partition`` starts a new byte string of the part once one reaches ``CHUNK_BYTES`` (a chunk
  ends between two keys, so it holds whole elements), decodes a key's values only to encode its group, and drops
  them as soon as they are encoded (Beam's keeps all of them until the end), handing the freed heap back to the OS every
  ``RELEASE_EVERY`` byte strings (the byte strings are large enough to be mapped apart from the heap, so the
  decoded values' pages would otherwise stay resident next to their encoded copy);
* ``BundleManager._send_input_to_worker`` flushes the stream after each byte string (``maybe_flush``: a message
  is sent once the stream holds the data plane's own 10 MB), as Beam's workers do with their output, and over
  gRPC sends from a thread of its own, so the bundle starts while its input is still going out (a worker keeps
  at most 5 messages of a bundle it has not started: with many messages and Beam's order, inputs first and the
  request after, the first runs at 32,000 articles waited forever).

And ``FnApiRunner._execute_bundle`` (one call per stage) hands what the stage freed back to the OS when it returns
(``trimmed``, ``transforms.memory.release_freed_memory``).

A worker receives the same elements in the same order in more, smaller messages; what it computes is unchanged
(``tests/test_direct_runner.py``). ``pipeline.run.local_runner`` calls it for every batch run on the FnApiRunner.
"""
from __future__ import annotations

import _thread
import logging
import threading
from typing import List

from apache_beam.runners.worker import data_plane

from wiredesk.transforms.memory import release_freed_memory

__all__ = ["CHUNK_BYTES", "bound_messages", "encoded_append", "marked_extend", "chunked_partition",
           "send_input_flushed"]

#: Bytes of encoded elements after which ``chunked_partition`` starts a new byte string.
CHUNK_BYTES = 8 << 20
#: Byte strings between two ``release_freed_memory`` calls of ``chunked_partition`` (64 MB).
RELEASE_EVERY = 8

_APPLIED = False
_LOG = logging.getLogger(__name__)
#: Beam's own methods, kept when ``bound_messages`` replaces them (name -> function).
BEAM_METHODS = {}


def _value_codec(buffer):
    """(decode, encode) of a GroupingBuffer's values, made once per buffer."""
    codec = getattr(buffer, "_wiredesk_value_codec", None)
    if codec is None:
        impl = buffer._pre_grouped_coder.wrapped_value_coder.value_coder().get_impl()
        codec = buffer._wiredesk_value_codec = (impl.decode, impl.encode)
    return codec


def _keeps_encoded(buffer) -> bool:
    """True when ``encoded_append`` keeps the buffer's values encoded (the global window's grouping, every
    batch run's; a windowed one keeps Beam's decoded values, which its trigger driver reads)."""
    return buffer._windowing.is_default()


def _holds_encoded(buffer) -> bool:
    """True when the buffer's values are held encoded: ``encoded_append`` marks the buffers it fills, so a
    buffer Beam's own ``append`` filled (another patch's, a test's) is partitioned as Beam's decoded values."""
    return getattr(buffer, "_wiredesk_encoded", False)


def encoded_append(self, elements_data: bytes) -> None:
    """``GroupingBuffer.append`` (Beam 2.77) keeping each value as the bytes of its own coder."""
    from apache_beam.coders.coder_impl import create_InputStream
    from apache_beam.runners.portability.fn_api_runner import execution

    if not _keeps_encoded(self) or (self._table and not _holds_encoded(self)):
        BEAM_METHODS.get("append", execution.GroupingBuffer.append)(self, elements_data)
        return

    if self._grouped_output:
        raise RuntimeError("Grouping table append after read.")
    self._wiredesk_encoded = True
    stream = create_InputStream(elements_data)
    decode_element = self._pre_grouped_coder.get_impl().decode_from_stream
    encode_key = self._key_coder.get_impl().encode
    _, encode_value = _value_codec(self)
    table = self._table
    while stream.size() > 0:
        key, value = decode_element(stream, True).value
        table[encode_key(key)].append(encode_value(value))


def marked_extend(self, input_buffer) -> None:
    """``GroupingBuffer.extend`` (Beam 2.77, which copies another buffer's table into this one) carrying the mark
    of ``encoded_append``: values copied from an encoded buffer stay known as encoded."""
    from apache_beam.runners.portability.fn_api_runner import execution

    BEAM_METHODS.get("extend", execution.GroupingBuffer.extend)(self, input_buffer)
    if _holds_encoded(input_buffer):
        self._wiredesk_encoded = True


def chunked_partition(self, n: int) -> List[List[bytes]]:
    """``GroupingBuffer.partition`` (Beam 2.77) with each part as byte strings of about ``CHUNK_BYTES``."""
    from apache_beam.coders.coder_impl import create_OutputStream
    from apache_beam.transforms import trigger
    from apache_beam.transforms.window import GlobalWindow, GlobalWindows
    from apache_beam.utils import windowed_value

    if self._grouped_output:
        return self._grouped_output
    if self._windowing.is_default():
        globally_window = GlobalWindows.windowed_value(
            None, timestamp=GlobalWindow().max_timestamp(),
            pane_info=windowed_value.PaneInfo(is_first=True, is_last=True,
                                              timing=windowed_value.PaneInfoTiming.ON_TIME, index=0,
                                              nonspeculative_index=0)).with_value

        def windowed_key_values(key, values):
            return [globally_window((key, values))]
    else:
        windowed_key_values = trigger.create_trigger_driver(self._windowing, True).process_entire_key
    coder_impl = self._post_grouped_coder.get_impl()
    key_coder_impl = self._key_coder.get_impl()
    decode_value = _value_codec(self)[0] if _holds_encoded(self) else None
    parts: List[List[bytes]] = [[] for _ in range(n)]
    streams = [create_OutputStream() for _ in range(n)]
    chunks = 0
    for idx, encoded_key in enumerate(list(self._table)):
        values = self._table.pop(encoded_key)  # the decoded values go as soon as they are encoded
        if decode_value is not None:
            values = [decode_value(v) for v in values]
        i = idx % n
        for wkvs in windowed_key_values(key_coder_impl.decode(encoded_key), values):
            coder_impl.encode_to_stream(wkvs, streams[i], True)
        if streams[i].size() >= CHUNK_BYTES:
            parts[i].append(streams[i].get())
            streams[i] = create_OutputStream()
            chunks += 1
            if chunks % RELEASE_EVERY == 0:
                release_freed_memory()  # the decoded values encoded so far, off the heap as the parts grow
    for i, stream in enumerate(streams):
        if stream.size() or not parts[i]:
            parts[i].append(stream.get())
    self._grouped_output = parts
    return parts


def send_input_flushed(self, process_bundle_id, read_transform_id, byte_streams) -> None:
    """``BundleManager._send_input_to_worker`` (Beam 2.77), flushing the stream after each byte string; over
    gRPC, from a thread of its own.

    Beam sends a bundle's inputs *before* it pushes the bundle's request, and reads the worker's output only
    after: a worker buffers the messages of a bundle it has not started in a queue of 5, so more messages than
    that would wait for a bundle that waits for them (the one message of Beam's never fills it). The thread lets
    ``process_bundle`` push the request and read the output while the input is still going out. If sending
    fails, the error is logged and the main thread interrupted (the bundle would otherwise wait for input
    forever). The in-memory channel (one worker in this process, which runs the bundle when the request is
    pushed) gets its input at once, as in Beam."""
    assert self._worker_handler is not None
    data_out = self._worker_handler.data_conn.output_stream(process_bundle_id, read_transform_id)

    def send():
        for byte_stream in byte_streams or []:
            data_out.write(byte_stream)
            data_out.maybe_flush()
        data_out.close()

    if not isinstance(self._worker_handler.data_conn, data_plane._GrpcDataChannel):
        send()
        return

    def send_or_interrupt():
        try:
            send()
        except BaseException:
            _LOG.exception("sending the input of %s (%s) to its worker failed", process_bundle_id,
                           read_transform_id)
            _thread.interrupt_main()

    threading.Thread(target=send_or_interrupt, name=f"send-{process_bundle_id}", daemon=True).start()


def trimmed(execute_bundle):
    """``FnApiRunner._execute_bundle`` (one call per stage) that hands the memory the stage freed back to the
    OS when it returns (``memory.release_freed_memory``)."""

    def execute_and_release(self, *args, **kwargs):
        try:
            return execute_bundle(self, *args, **kwargs)
        finally:
            release_freed_memory()

    return execute_and_release


def bound_messages() -> None:
    """Make Beam's FnApiRunner send stage inputs in bounded messages (this process; idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    from apache_beam.runners.portability.fn_api_runner import execution, fn_runner

    BEAM_METHODS.update(append=execution.GroupingBuffer.append, extend=execution.GroupingBuffer.extend,
                        partition=execution.GroupingBuffer.partition,
                        send_input=fn_runner.BundleManager._send_input_to_worker,
                        execute_bundle=fn_runner.FnApiRunner._execute_bundle)
    execution.GroupingBuffer.append = encoded_append
    execution.GroupingBuffer.extend = marked_extend
    execution.GroupingBuffer.partition = chunked_partition
    fn_runner.BundleManager._send_input_to_worker = send_input_flushed
    fn_runner.FnApiRunner._execute_bundle = trimmed(BEAM_METHODS["execute_bundle"])
    _APPLIED = True
