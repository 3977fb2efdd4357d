"""``fieldstream produce frames | audio | replay-images | replay-audio``: publish media to Kafka.

Each command builds a *source* (simulated or replayed records, from ``producers``) and runs it
through the shared publishing loop (:func:`producers.publish_loop.publish_all`): paced per device,
bounded local queue, delivery reports counted, clean stop on Ctrl-C/SIGTERM, one summary line on
stderr (and a JSON object on stdout with ``--json``). Exit codes: 0 done (or stopped by SIGTERM),
1 some records were not delivered, 2 bad options or dataset, 130 stopped by Ctrl-C.

:mod:`.parsers` holds the verbs' options, :mod:`.handlers` what runs them. Importing this package
stays light (``fieldstream --help`` does): the simulators, replayers and the Kafka client are
imported by the handlers when they run.
"""

from __future__ import annotations

import argparse

from fieldstream.modality import AUDIO, VISION
from fieldstream.topics import LABELS
from producers.cli.parsers import VERBS


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``produce`` and its verbs to the root CLI's subcommands."""
    produce = sub.add_parser(
        "produce",
        help="publish simulated or replayed frames and soundscape chunks (+ ground-truth labels) to Kafka",
        description=f"Publish media to {VISION.raw_topic} / {AUDIO.raw_topic} and ground truth to"
        f" {LABELS}, keyed by device id. Ctrl-C or SIGTERM stops cleanly: queued records are flushed"
        " and the summary printed.",
    )
    verbs = produce.add_subparsers(dest="verb", required=True, metavar="VERB")
    for add_verb in VERBS:
        add_verb(verbs)
