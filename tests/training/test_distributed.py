"""Training under `torchrun` with DistributedDataParallel: two CPU ranks (gloo) end with the same weights."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORLD_SIZE = 2

# Each rank starts from different weights (seeded by its rank): DistributedDataParallel must start all of
# them from rank 0's, then keep them equal by averaging gradients. (Batch-norm running statistics are
# each rank's own between forwards, as DistributedDataParallel broadcasts rank 0's at every forward.)
RANK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import torch
    import torch.distributed as dist
    from safetensors.torch import save_file
    from opencomposer.models.critic import Critic, CriticConfig
    from opencomposer.models.unet_gan import UNetConfig, UNetGenerator
    from opencomposer.training.objectives.gan import WganGp
    from opencomposer.training.trainer import Trainer, TrainerConfig

    folder = sys.argv[1]
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(rank)
    generator = UNetGenerator(UNetConfig(8, 16, 2, filters=2, depth=2, latent_channels=2, upsample="transposed"))
    critic = Critic(CriticConfig(2, 8, 16, filters=2, layers=2))
    objective = WganGp(generator, critic, melody_index=0, generated_tracks=[1, 2], update_ratio=2)
    windows = (torch.rand(48, 3, 8, 16, generator=torch.Generator().manual_seed(1)) > 0.85).float()

    def batches(epoch):
        order = torch.randperm(48, generator=torch.Generator().manual_seed(epoch))
        return [windows[order[i : i + 4]] for i in range(0, 48, 4)]

    Trainer(objective, batches, TrainerConfig(steps=3, checkpoint_every=2, device="cpu"), f"{folder}/run").run()
    modules = objective.modules().items()
    weights = {f"{n}.{k}": v.detach().contiguous() for n, m in modules for k, v in m.named_parameters()}
    save_file(weights, f"{folder}/rank{rank}.safetensors")
    dist.destroy_process_group()
    """
)


@pytest.mark.slow
def test_two_ranks_agree_on_the_weights(tmp_path: Path) -> None:
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT, encoding="utf-8")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD_SIZE}"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [*command, str(script), str(tmp_path)], capture_output=True, text=True, env=environment, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    first, second = (load_file(tmp_path / f"rank{rank}.safetensors") for rank in range(WORLD_SIZE))
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert (tmp_path / "run" / "checkpoints" / "step-00000003.json").is_file()
