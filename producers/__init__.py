"""FieldStream producers: device simulators and dataset replayers, and what publishes them to Kafka.

- :mod:`producers.field_camera`, :mod:`producers.soundscape`: the simulators (no Kafka inside).
- :mod:`producers.replay`: readers of real datasets (YOLO image folders, BirdCLEF-style audio).
- :mod:`producers.simulated`: simulator output as ready-to-send records (media + labels);
  :mod:`producers.render_workers` renders frames in a pool of worker processes
  (:mod:`producers.process_pool`) with the same output.
- :mod:`producers.publisher`, :mod:`producers.pacing`, :mod:`producers.shutdown`,
  :mod:`producers.runner`, :mod:`producers.records`, :mod:`producers.summary`: the publishing loop behind
  ``fieldstream produce``.
"""
