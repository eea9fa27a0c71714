"""The WGAN-GP objective of a melody-conditioned accompaniment GAN (Gulrajani et al. 2017).

With `D` the critic, `G` the generator, `c` the melody, `x` the real tracks and `z` the noise:

- critic loss: ``mean(D(G(z, c), c)) - mean(D(x, c)) + lambda * mean((||grad D(x_hat, c)||_2 - 1) ** 2)``
  where ``x_hat = eps * x + (1 - eps) * G(z, c)`` with ``eps ~ U(0, 1)`` per window, and `lambda` the
  gradient penalty weight (10, as the paper and the AWS DeepComposer lab);
- generator loss: ``-mean(D(G(z, c), c)) + mu * mean(|G(z, c) - x|)``, where the second term (weight `mu`,
  0 by default, which is the lab's pure WGAN-GP) is pix2pix's L1 reconstruction (Isola et al. 2017): it
  pulls the generated tracks towards the dataset's own for the same melody, which teaches the harmony in
  far fewer steps, while the adversarial term keeps the result sharp and varied.

Each step makes `update_ratio` critic updates, each on a batch of its own, then one generator update on
one more batch, as the lab does. Rolls are mapped from {0, 1} to {-1, 1} (the generator ends in tanh).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from opencomposer.models.musegan import MuseGanGenerator
from opencomposer.models.unet_gan import UNetGenerator
from opencomposer.training.objectives import Objective

GRADIENT_PENALTY_WEIGHT = 10.0
LAB_BETAS = (0.5, 0.9)


class WganGp(Objective):
    """Train `generator` to accompany melodies against `critic`.

    Parameters
    ----------
    generator
        Maps (melody, noise) to tracks.
    critic
        Maps (tracks, melody) to one score per window.
    melody_index
        Channel of the melody in the batches.
    generated_tracks
        Channels of the batches the generator produces, in its output order (they may include the
        melody's channel: the lab's generator regenerates it).
    learning_rate, betas
        Of both Adam optimizers.
    update_ratio
        Critic updates per generator update.
    gradient_penalty_weight
        The `lambda` of the gradient penalty.
    reconstruction_weight
        The `mu` of the L1 reconstruction term (0: none).
    """

    def __init__(
        self,
        generator: UNetGenerator | MuseGanGenerator,
        critic: nn.Module,
        *,
        melody_index: int,
        generated_tracks: Sequence[int],
        learning_rate: float = 1e-3,
        betas: tuple[float, float] = LAB_BETAS,
        update_ratio: int = 5,
        gradient_penalty_weight: float = GRADIENT_PENALTY_WEIGHT,
        reconstruction_weight: float = 0.0,
    ) -> None:
        super().__init__()
        if update_ratio < 1:
            raise ValueError(f"update_ratio must be at least 1, not {update_ratio}.")
        self.generator = generator
        self.critic = critic
        self.melody_index = melody_index
        self.generated_tracks = list(generated_tracks)
        self.update_ratio = update_ratio
        self.gradient_penalty_weight = gradient_penalty_weight
        self.reconstruction_weight = reconstruction_weight
        self.batches_per_step = update_ratio + 1
        self.noise_shape = generator.noise_shape
        self.generator_optimizer = torch.optim.Adam(generator.parameters(), lr=learning_rate, betas=betas)
        self.critic_optimizer = torch.optim.Adam(critic.parameters(), lr=learning_rate, betas=betas)

    def modules(self) -> dict[str, nn.Module]:
        """The generator and the critic."""
        return {"generator": self.generator, "critic": self.critic}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per network."""
        return {"generator": self.generator_optimizer, "critic": self.critic_optimizer}

    def _split(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(melody (B, 1, T, P), real tracks (B, N, T, P)), both mapped to {-1, 1}."""
        signed = batch * 2.0 - 1.0
        melody = signed[:, self.melody_index : self.melody_index + 1]
        return melody, signed[:, self.generated_tracks]

    def _noise(self, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        # Drawn on the CPU, so that one seed gives the same noise on every device.
        return torch.randn((size, *self.noise_shape), generator=generator).to(self.device)

    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        """`update_ratio` critic updates then one generator update; returns the last losses."""
        if len(batches) != self.batches_per_step:
            raise ValueError(f"A step takes {self.batches_per_step} batches, not {len(batches)}.")
        generator, critic = self.training_module("generator"), self.training_module("critic")
        generator.train()
        critic.train()
        scalars: dict[str, float] = {}
        for batch in batches[:-1]:
            scalars = self._critic_update(generator, critic, batch)
        melody, real = self._split(batches[-1])
        fake = generator(melody, self._noise(len(melody)))
        adversarial = -critic(fake, melody).mean()
        reconstruction = (fake - real).abs().mean()
        generator_loss = adversarial + self.reconstruction_weight * reconstruction
        self.generator_optimizer.zero_grad(set_to_none=True)
        generator_loss.backward()
        self.generator_optimizer.step()
        scalars["generator_loss"] = float(adversarial.detach())
        scalars["reconstruction"] = float(reconstruction.detach())
        return scalars

    def _critic_update(self, generator: nn.Module, critic: nn.Module, batch: torch.Tensor) -> dict[str, float]:
        melody, real = self._split(batch)
        size = len(melody)
        with torch.no_grad():
            fake = generator(melody, self._noise(size))
        mix = torch.rand((size, 1, 1, 1), device=self.device)
        between = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
        # One forward over real, fake and interpolated windows: DistributedDataParallel allows one per backward.
        scores = critic(torch.cat([real, fake, between]), melody.repeat(3, 1, 1, 1))  # (3B,)
        real_score, fake_score, between_score = scores.split(size)
        (gradients,) = torch.autograd.grad(between_score.sum(), between, create_graph=True)
        slopes = torch.sqrt(1e-8 + gradients.square().flatten(1).sum(dim=1))  # (B,)
        penalty = (slopes - 1.0).square().mean()
        distance = real_score.mean() - fake_score.mean()
        loss = -distance + self.gradient_penalty_weight * penalty
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        return {
            "critic_loss": float(loss.detach()),
            "wasserstein_distance": float(distance.detach()),
            "gradient_penalty": float(penalty.detach()),
        }

    @torch.no_grad()
    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The batch with its generated tracks replaced by the generator's output, melody kept as given."""
        net = self.generator
        was_training = net.training
        net.eval()
        try:
            melody, _ = self._split(batch)
            fake = net(melody, self._noise(len(melody), generator))
        finally:
            net.train(was_training)
        out = batch.clone()
        out[:, self.generated_tracks] = (fake + 1.0) / 2.0
        out[:, self.melody_index] = batch[:, self.melody_index]
        return out
