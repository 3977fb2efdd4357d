"""Quick throughput check of the simulator: ``python -m producers.field_camera.bench [--frames N]``.

Renders a warm-up stretch (sprites are rendered lazily on first use), then times ``frames`` frames
of rendering alone and of rendering + JPEG encoding on one core, and prints one JSON line. Optionally
saves one frame as PNG (``--sample PATH``) to look at.
"""

from __future__ import annotations

import argparse
import json
import time

from PIL import Image

from producers.field_camera.config import FieldCameraConfig
from producers.field_camera.jpeg import encode_jpeg
from producers.field_camera.simulator import FieldCameraSimulator


def run(frames: int = 600, warmup: int = 600, seed: int = 0, quality: int = 85) -> dict[str, float]:
    """Frames per second (wall clock and process CPU) of render and of render + JPEG encode."""
    sim = FieldCameraSimulator(FieldCameraConfig(seed=seed, jpeg_quality=quality))
    for _ in sim.frames(warmup):
        pass
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in sim.frames(frames, start=warmup):
        pass
    render_wall, render_cpu = time.perf_counter() - wall, time.process_time() - cpu
    size = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for frame in sim.frames(frames, start=warmup + frames):
        size += len(encode_jpeg(frame.image, quality))
    both_wall, both_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "frames": frames,
        "render_fps": round(frames / render_wall, 1),
        "render_fps_cpu": round(frames / render_cpu, 1),
        "render_jpeg_fps": round(frames / both_wall, 1),
        "render_jpeg_fps_cpu": round(frames / both_cpu, 1),
        "jpeg_kib": round(size / frames / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--sample", help="save frame 10 of the default config as PNG here")
    args = parser.parse_args()
    if args.sample:
        frame = FieldCameraSimulator(FieldCameraConfig(seed=args.seed)).frame(10)
        Image.fromarray(frame.image).save(args.sample)
    print(json.dumps(run(args.frames, seed=args.seed, quality=args.quality)))


if __name__ == "__main__":
    main()
