"""wiredesk: news wire stories in, clean, deduplicated, event-grouped Parquet out.

``pipeline.cli`` is the command line, ``pipeline.options`` the options and
``pipeline.build.build_pipeline`` wires the stages of ``transforms``.
"""
__version__ = "0.1.0"
