"""Training hyperparameters, declared once: the CLI's flags and the studio's forms are made from these.

`TRAINING_PARAMS` are shared by every objective; `GAN_PARAMS` adds the adversarial ones. A preset may
recommend other values (a `GanPreset.training` mapping); what the user gives wins over both.
"""

from __future__ import annotations

from opencomposer.techniques.base import MAX_SEED, Param

STEPS = Param(
    "steps",
    "int",
    2000,
    "How many updates to train for; more steps learn more and take longer.",
    minimum=1,
    maximum=10_000_000,
    unit="steps",
)
MAX_MINUTES = Param(
    "max_minutes",
    "float",
    0.0,
    "Stop after this much training time, as if the last step were reached (resumed runs count their earlier "
    "time); 0 trains for all the steps.",
    minimum=0.0,
    maximum=100_000.0,
    unit="minutes",
)
EPOCHS = Param(
    "epochs",
    "int",
    0,
    "Train for this many passes over the training windows instead of a number of steps; 0 uses steps.",
    minimum=0,
    maximum=100_000,
    unit="epochs",
)
BATCH_SIZE = Param(
    "batch_size",
    "int",
    64,
    "Windows read together for each update; larger batches give steadier updates and use more memory.",
    minimum=1,
    maximum=4096,
    unit="windows",
)
LEARNING_RATE = Param(
    "learning_rate",
    "float",
    1e-3,
    "Size of each update of the networks' weights; too high makes training unstable, too low makes it slow.",
    minimum=1e-6,
    maximum=0.1,
)
EVAL_EVERY = Param(
    "eval_every",
    "int",
    200,
    "Measure the music the model makes, and save a sample, every this many steps; 0 only at the end.",
    minimum=0,
    maximum=10_000_000,
    unit="steps",
)
CHECKPOINT_EVERY = Param(
    "checkpoint_every",
    "int",
    200,
    "Save the training state every this many steps, so that a stopped run can resume; 0 only at the end.",
    minimum=0,
    maximum=10_000_000,
    unit="steps",
)
SEED = Param(
    "seed",
    "int",
    0,
    "Seed of every random choice in training; the same seed and settings train the same model.",
    minimum=0,
    maximum=MAX_SEED,
)
UPDATE_RATIO = Param(
    "update_ratio",
    "int",
    5,
    "Critic updates for each generator update; the critic must stay ahead for the generator to learn.",
    minimum=1,
    maximum=20,
)
GRADIENT_PENALTY = Param(
    "gradient_penalty",
    "float",
    10.0,
    "Weight of the gradient penalty that keeps the critic smooth (WGAN-GP); 10 is the published value.",
    minimum=0.0,
    maximum=1000.0,
)
RECONSTRUCTION_WEIGHT = Param(
    "reconstruction_weight",
    "float",
    0.0,
    "Weight of a term pulling generated tracks towards the dataset's own for the same melody "
    "(as pix2pix does); it speeds up learning the harmony, 0 trains a pure WGAN-GP as the lab did.",
    minimum=0.0,
    maximum=1000.0,
)

TRAINING_PARAMS: tuple[Param, ...] = (
    STEPS,
    EPOCHS,
    MAX_MINUTES,
    BATCH_SIZE,
    LEARNING_RATE,
    EVAL_EVERY,
    CHECKPOINT_EVERY,
    SEED,
)
"""The hyperparameters of every training run."""

GAN_PARAMS: tuple[Param, ...] = (*TRAINING_PARAMS, UPDATE_RATIO, GRADIENT_PENALTY, RECONSTRUCTION_WEIGHT)
"""The hyperparameters of a GAN training run."""

DRUM_STYLES = (
    "none",
    "rock",
    "funk",
    "jazz",
    "latin",
    "hiphop",
    "soul",
    "afrocuban",
    "punk",
    "neworleans",
    "country",
    "pop",
    "reggae",
    "gospel",
    "afrobeat",
    "dance",
    "blues",
)
DRUM_STYLE = Param(
    "drum_style",
    "choice",
    "none",
    "The drummer's style, learnt from the Groove MIDI Dataset's performances in that style; none plays no drums.",
    choices=DRUM_STYLES,
)
BAND_PARAMS: tuple[Param, ...] = (*TRAINING_PARAMS, DRUM_STYLE)
"""The hyperparameters of a band run: the shared ones and the drummer's style."""

SCHEDULE_PARAMS = frozenset({"steps", "epochs", "max_minutes", "eval_every", "checkpoint_every"})
"""Hyperparameters that may change when a run is resumed (they do not change what one step does)."""
