"""Training: the shared `Trainer`, its objectives, events, checkpoints, and the GAN recipe.

- `trainer`: the loop (seeding, devices, DistributedDataParallel, evaluation schedule, checkpoints, events);
- `objectives`: what one step computes (`objectives.gan.WganGp` for the accompaniment GANs);
- `events`: the events a run emits and the sinks that receive them;
- `checkpoints`: resumable state in safetensors + JSON;
- `evaluation`: fixed held-out windows measured during training;
- `params`: the training hyperparameters, declared once;
- `hardware`: the machine a run trains on, in words for model cards;
- `gan`: presets, `GanRecipe` and `evaluate_accompaniment`.
"""
