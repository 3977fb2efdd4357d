"""FieldStream producers: device simulators and dataset replayers, and what publishes them to Kafka.

- :mod:`producers.field_camera`, :mod:`producers.soundscape`: the simulators (no Kafka inside).
- :mod:`producers.replay`: readers of real datasets (YOLO image folders, BirdCLEF-style audio).
- :mod:`producers.device_runs`: what a simulated run is (its options, light to import);
  :mod:`producers.device_simulators` renders a run's devices block by block
  (:mod:`producers.record_blocks`); :mod:`producers.simulated` gives a run's ready-to-send records
  (media + labels), rendered in this process or by :mod:`producers.render_workers` in a pool of
  worker processes (:mod:`producers.process_pool`) with the same output.
- :mod:`producers.publisher`, :mod:`producers.pacing`, :mod:`producers.shutdown`,
  :mod:`producers.publish_loop`, :mod:`producers.records`, :mod:`producers.summary`: the publishing
  loop behind ``fieldstream produce`` (:mod:`producers.cli`).
- :mod:`producers.config`: the defaults the CLI and the modules above share, each defined once;
  :mod:`producers.clock`: the wall clock of ``captured_at``.
"""
