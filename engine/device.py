"""Where and in which precision the model runs: CUDA, then Apple MPS, else CPU.

bf16 autocast is chosen automatically only where it is faster than fp32: CUDA GPUs with bf16
support, and CPUs with AMX tiles. On a CPU with only AVX-512 BF16 (no AMX) bf16 convolutions
measured slower than fp32 here (docs/PERFORMANCE.md), so auto keeps fp32 there.
"""

from __future__ import annotations

import contextlib

import torch

from engine.errors import UserError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is available on this machine")
    if name == "mps" and not _mps_available():
        raise UserError("--device mps: Apple MPS is not available on this machine")
    if name not in DEVICES:
        raise UserError(f"unknown device {name!r} (choose from {', '.join(DEVICES)})")
    return torch.device(name)


def cpu_has_amx() -> bool:
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe and probe())


def cpu_has_native_bf16() -> bool:
    """bf16 in hardware (AVX-512 BF16 or AMX), not emulated with AVX-512 conversions."""
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return cpu_has_amx() or bool(probe and probe())


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def resolve_precision(name: str, device: torch.device) -> str:
    if name == "fp32":
        return "fp32"
    if name == "bf16":
        if not bf16_supported(device):
            raise UserError(f"--precision bf16: not supported on this {device.type} device")
        return "bf16"
    if name != "auto":
        raise UserError(f"unknown precision {name!r} (choose from {', '.join(PRECISIONS)})")
    if device.type == "cuda" and bf16_supported(device):
        return "bf16"
    if device.type == "cpu" and cpu_has_amx() and bf16_supported(device):
        return "bf16"
    return "fp32"


def use_channels_last(device: torch.device) -> bool:
    """channels_last speeds oneDNN convolutions on CPU and tensor cores (docs/PERFORMANCE.md)."""
    return device.type in ("cpu", "cuda")


def autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
