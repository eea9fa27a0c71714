"""The `opencomposer` command line.

Each group of commands lives in its own module and is registered here. A user's mistake (an
`OpenComposerError`) prints one line and exits with status 2, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from opencomposer import __version__
from opencomposer.errors import OpenComposerError


class _FriendlyGroup(click.Group):
    """A click group that turns the errors a user can cause into one clear line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OpenComposerError as error:
            raise UserFacingError(str(error)) from None


class UserFacingError(click.ClickException):
    """Printed by click as `Error: <message>` on stderr, with exit status 2."""

    exit_code = 2


@click.group(cls=_FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opencomposer")
def main() -> None:
    """OpenComposer: play a melody, pick a generative technique and a model, get a composition."""


def _register() -> None:
    from opencomposer.cli.data import data
    from opencomposer.cli.evaluate import evaluate
    from opencomposer.cli.generate import generate
    from opencomposer.cli.melodies import melodies
    from opencomposer.cli.midi import midi
    from opencomposer.cli.models import models
    from opencomposer.cli.studio import studio
    from opencomposer.cli.train import train

    main.add_command(data)
    main.add_command(evaluate)
    main.add_command(generate)
    main.add_command(melodies)
    main.add_command(midi)
    main.add_command(models)
    main.add_command(studio)
    main.add_command(train)


_register()
