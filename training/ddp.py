"""The distributed trainer, one process per rank under ``torchrun`` (``fieldstream train`` starts it).

Every rank builds the same datasets (deterministic for the seeds), trains a DistributedDataParallel
model on its DistributedSampler shard (gloo on CPU, NCCL + bf16 autocast on GPU) and all-reduces the
epoch loss. Rank 0 alone evaluates on held-out data, logs to MLflow, checkpoints (resume picks up
the same MLflow run), decides early stopping (broadcast to the others), and at the end releases the
model: export, register, gate, promote (:mod:`training.release`).

    python -m torch.distributed.run --standalone --nproc-per-node 2 -m training.ddp --config run.json
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from training.checkpoint import Checkpoint, load_checkpoint, peek_checkpoint, save_checkpoint
from training.config import TrainConfig
from training.loop import train_epoch
from training.tasks import make_task

log = logging.getLogger("fieldstream.train")


def _setup(threads: int | None) -> tuple[int, int, str]:
    cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local)
        return rank, world, f"cuda:{local}"
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // world))
    return rank, world, "cpu"


def train(config: TrainConfig) -> dict[str, Any] | None:
    """Run this rank's share of the training; rank 0 returns the result, other ranks None."""
    begun = time.monotonic()  # the time budget counts data preparation too
    rank, world, device = _setup(config.threads)
    torch.manual_seed(config.train_seed)
    task = make_task(config)
    train_set, heldout = task.datasets(config)
    model = task.build_model().to(device)
    ddp = DistributedDataParallel(model, device_ids=[int(device.split(":")[1])] if device != "cpu" else None)
    per_rank = config.global_batch // world
    sampler = DistributedSampler(
        train_set, num_replicas=world, rank=rank, shuffle=True, seed=config.train_seed, drop_last=True
    )
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler, drop_last=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = min(len(loader), config.max_steps_per_epoch or len(loader))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=max(1, steps * config.epochs), pct_start=0.15
    )
    loss_fn = task.loss().to(device)
    ckpt_path = config.checkpoint_path
    state = _resume_state(config, ckpt_path, model, optimizer, scheduler) if config.resume else Checkpoint()
    tracker = None
    if rank == 0:
        from training.tracking import make_tracker

        tracker = make_tracker(
            config,
            task,
            run_id=state.mlflow_run_id,
            world_size=world,
            train_size=len(train_set),  # type: ignore[arg-type]
            heldout_size=len(heldout),  # type: ignore[arg-type]
        )
        state.mlflow_run_id = tracker.run_id
    started = begun - state.elapsed_s
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device != "cpu" else contextlib.nullcontext()
    bar = tqdm(
        total=config.epochs,
        initial=state.epoch,
        desc=f"train {config.task}",
        disable=rank != 0,
        unit="epoch",
        dynamic_ncols=True,
    )
    stop = torch.zeros(1)
    for epoch in range(state.epoch, config.epochs):
        epoch_started = time.monotonic()
        sampler.set_epoch(epoch)
        with autocast:
            parts = train_epoch(
                ddp,
                loader,
                optimizer,
                loss_fn,
                device,
                scheduler=scheduler,
                grad_clip=5.0,
                max_steps=config.max_steps_per_epoch,
            )
        loss = torch.tensor([parts["loss"]], dtype=torch.float64)
        dist.all_reduce(loss)
        train_loss = float(loss) / world
        state.history.append({"epoch": epoch + 1, "train_loss": train_loss, "seconds": parts["seconds"]})
        if rank == 0:
            metrics = task.evaluate(model, heldout, device)
            state.history[-1].update(metrics)
            score = metrics[task.gate.metric]
            improved = score > state.best_score + 1e-6
            if improved:
                state.best_score, state.best_epoch = score, epoch + 1
                state.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            state.epoch, state.elapsed_s = epoch + 1, time.monotonic() - started
            state.history[-1]["elapsed_s"] = round(state.elapsed_s, 2)
            assert tracker is not None
            tracker.log_epoch(
                epoch + 1, {"train_loss": train_loss, **metrics, "lr": scheduler.get_last_lr()[0]}
            )
            save_checkpoint(ckpt_path, state, model, optimizer, scheduler)
            bar.set_postfix(loss=f"{train_loss:.4f}", **{task.gate.metric: f"{score:.3f}"})
            bar.update()
            # stop before an epoch that would end past the budget (the last one's length as the guess)
            out_of_time = (
                config.time_budget_s is not None
                and state.elapsed_s + (time.monotonic() - epoch_started) > config.time_budget_s
            )
            stalled = epoch + 1 - state.best_epoch >= config.patience
            if out_of_time or stalled:
                state.stop_reason = "time budget" if out_of_time else f"no gain in {config.patience} epochs"
            stop[0] = 1.0 if (out_of_time or stalled) else 0.0
        dist.broadcast(stop, src=0)
        if stop.item():
            break
    bar.close()
    result = None
    if rank == 0:
        assert tracker is not None
        from training.release import release_model

        if state.best_state is not None:
            model.load_state_dict(state.best_state)
        result = release_model(config, task, model, heldout, tracker, state, train=train_set)
        state.finished = True  # a later --resume starts a new run instead of releasing this one again
        save_checkpoint(ckpt_path, state, model, optimizer, scheduler)
    dist.barrier()
    dist.destroy_process_group()
    return result


def _resume_state(config: TrainConfig, path: Path, model: Any, optimizer: Any, scheduler: Any) -> Checkpoint:
    """The unfinished run's checkpoint, loaded into model, optimiser and schedule; else a fresh state."""
    if not path.exists():
        log.warning("nothing to resume: no checkpoint at %s; starting a new run", path)
        return Checkpoint()
    state = peek_checkpoint(path)
    if state.finished:
        log.warning("the run in %s already finished and was published; starting a new run", path)
        return Checkpoint()
    return load_checkpoint(path, model, optimizer, scheduler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.ddp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True, help="TrainConfig JSON written by the CLI")
    args = parser.parse_args(argv)
    config = TrainConfig.from_json(args.config.read_text())
    result = train(config)
    if result is not None and config.output:
        import json

        Path(config.output).write_text(json.dumps(result, indent=2, default=_jsonable))
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
