"""The events stage: canonical articles grouped into events, copies inherit.

``ClusterEvents`` is the Beam stage, ``EventConfig`` its knobs. The modules,
one per concern: ``config``, ``records``, ``text``, ``features``,
``vectors``, ``timing``, ``blocking``, ``scoring``, ``clustering``,
``summary``, ``reference`` (the one-process driver), ``steps`` and
``transforms`` (the Beam steps).
"""
from wiredesk.transforms.events.config import DEFAULT_CONFIG, EventConfig
from wiredesk.transforms.events.transforms import ClusterEvents

__all__ = ["ClusterEvents", "EventConfig", "DEFAULT_CONFIG"]
