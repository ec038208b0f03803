"""Training throughput: the default training path against plain fp32 eager, side by side.

Runs every variant in interleaved rounds in one process (the machines are shared and noisy),
reports pairs/s, the speed-up over plain fp32 eager, and achieved GFLOP/s against a matmul peak
measured in the same run. Results go in docs/PERFORMANCE.md.

    python bench/train_throughput.py [--batch-size 32] [--image-size 64] [--rounds 5] [--compile]
                                     [--mnist ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import device as devices
from engine.model import ModelConfig, SceneModel, total_loss


def make_step(cfg, device, precision, channels_last, compiled=False):
    torch.manual_seed(0)
    model = SceneModel(cfg).to(device)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    net = torch.compile(model) if compiled else model

    def step(x1, x2):
        x1 = x1.contiguous(memory_format=fmt)
        x2 = x2.contiguous(memory_format=fmt)
        with devices.autocast(device, precision):
            terms = net(x1, x2)
        loss = total_loss(terms, 0.1, 0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device, dtype, n=2048, reps=10) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def step_flops(cfg, batch, device) -> float:
    model = SceneModel(cfg).to(device)
    x = torch.rand(batch, 3, cfg.image_size, cfg.image_size, device=device)
    with FlopCounterMode(display=False) as counter:
        total_loss(model(x, x.flip(0)), 0.1, 0.1).backward()
    return counter.get_total_flops()


def pair_generation_us(mnist_dir: str, pairs: int = 512) -> float:
    """CPU time to generate one Moving MNIST training pair (what bounds GPU training on it)."""
    from engine.data.mnist import load_mnist
    from engine.data.sampler import MovingMNISTPairs
    from engine.data.synthetic import MovingMNIST, make_backgrounds

    source = MovingMNISTPairs(MovingMNIST(load_mnist(mnist_dir, "train")[0], make_backgrounds()))
    source.sample(32)
    t = time.perf_counter()
    source.sample(pairs)
    return (time.perf_counter() - t) / pairs * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=3, help="timed steps per variant per round")
    p.add_argument("--device", default="auto")
    p.add_argument("--compile", action="store_true", help="add torch.compile variants")
    p.add_argument("--mnist", metavar="DIR", help="also time Moving MNIST pair generation")
    args = p.parse_args()
    if args.mnist:
        print(f"Moving MNIST pairs: {pair_generation_us(args.mnist):.0f} µs per pair (one core)")

    device = devices.resolve_device(args.device)
    cfg = ModelConfig(image_size=args.image_size)
    default_precision = devices.resolve_precision("auto", device)
    default_cl = devices.use_channels_last(device)
    variants = {
        "plain fp32 eager": ("fp32", False, False),
        f"default ({default_precision}{', channels_last' if default_cl else ''})": (
            default_precision, default_cl, False),
        "fp32 + channels_last": ("fp32", True, False),
    }
    if devices.bf16_supported(device):
        variants["bf16 autocast + channels_last"] = ("bf16", True, False)
    if args.compile:
        variants["default + torch.compile"] = (default_precision, default_cl, True)
    steps = {name: make_step(cfg, device, *v) for name, v in variants.items()}
    x1 = torch.rand(args.batch_size, 3, cfg.image_size, cfg.image_size, device=device)
    x2 = torch.rand_like(x1)
    first: dict[str, float] = {}
    for name, step in steps.items():  # warm-up (and compilation, timed)
        sync(device)
        t = time.perf_counter()
        step(x1, x2)
        sync(device)
        first[name] = time.perf_counter() - t
        step(x1, x2)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            sync(device)
            t = time.perf_counter()
            for _ in range(args.steps):
                step(x1, x2)
            sync(device)
            times[name].append((time.perf_counter() - t) / args.steps)

    flops = step_flops(cfg, args.batch_size, device)
    peak32 = matmul_peak(device, torch.float32)
    peak16 = matmul_peak(device, torch.bfloat16) if devices.bf16_supported(device) else None
    base = statistics.median(times["plain fp32 eager"])
    cpu = "" if device.type != "cpu" else f", {torch.get_num_threads()} threads"
    print(f"device: {device}{cpu}; torch {torch.__version__}; model {args.image_size}px, "
          f"batch {args.batch_size}; {flops / 1e9:.1f} GFLOP per training step")
    print(f"matmul peak (2048², same run): fp32 {peak32:.0f} GFLOP/s"
          + (f", bf16 {peak16:.0f} GFLOP/s" if peak16 else ""))
    print()
    print("| variant | ms / step | pairs/s | speed-up | GFLOP/s | % of fp32 matmul peak "
          "| first step (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, ts in times.items():
        t = statistics.median(ts)
        gflops = flops / t / 1e9
        print(f"| {name} | {t * 1e3:.0f} | {args.batch_size / t:.0f} | {base / t:.2f}x | "
              f"{gflops:.0f} | {100 * gflops / peak32:.0f}% | {first[name]:.1f} |")


if __name__ == "__main__":
    main()
