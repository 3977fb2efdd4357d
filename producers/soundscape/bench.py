"""Generation speed of the simulator, WAV encoding included; prints one JSON object.

    python -m producers.soundscape.bench --sessions 20

``cold`` includes building the ambient noise banks (once per simulator); ``warm`` renders the
same chunks again with the banks built, which is the steady state of a long-running producer.
"""

from __future__ import annotations

import argparse
import json
import time

from fieldstream.modality import AUDIO_CHUNK_SECONDS
from producers.soundscape.config import SoundscapeConfig
from producers.soundscape.simulator import SoundscapeSimulator
from producers.soundscape.wav import encode_wav


def _run(sim: SoundscapeSimulator) -> tuple[int, float, int]:
    start, count, size = time.perf_counter(), 0, 0
    for chunk in sim.chunks():
        size += len(encode_wav(chunk.waveform, chunk.sample_rate))
        count += 1
    return count, time.perf_counter() - start, size


def _figures(count: int, seconds: float) -> dict[str, float]:
    return {
        "chunks": count,
        "seconds": round(seconds, 3),
        "chunks_per_s": round(count / seconds, 1),
        "ms_per_chunk": round(1000.0 * seconds / count, 2),
        "x_real_time": round(count * AUDIO_CHUNK_SECONDS / seconds, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--chunks-per-session", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = SoundscapeConfig(
        sessions=args.sessions, chunks_per_session=args.chunks_per_session, seed=args.seed
    )
    sim = SoundscapeSimulator(config)
    cold = _run(sim)
    warm = _run(sim)
    print(
        json.dumps(
            {
                "benchmark": "soundscape_generation_with_wav",
                "cold": _figures(cold[0], cold[1]),
                "warm": _figures(warm[0], warm[1]),
                "wav_bytes_per_chunk": cold[2] // max(cold[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
