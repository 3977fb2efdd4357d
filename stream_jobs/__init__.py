"""Stream jobs: the PyFlink feature job (``stream_jobs.features``), the history sink
(``stream_jobs.history``), and the PyFlink plumbing they share (``stream_jobs.flink``).

How to run them, where their output lands and the SQL to read it back: ``stream_jobs/README.md``.
"""
