"""The machine a run trains on, in words for model cards (needs only torch)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def hardware_description(device: str = "auto") -> str:
    """The machine a run trained on, for model cards: CPU or GPU model, cores and torch version."""
    if device != "cpu" and torch.cuda.is_available():
        processor = torch.cuda.get_device_name(0)
    else:
        processor = _cpu_model() or platform.processor() or platform.machine()
    return (
        f"{processor}; {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads; torch {torch.__version__}"
    )


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""
