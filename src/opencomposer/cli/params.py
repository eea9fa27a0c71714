"""Click options made from `Param` declarations, so the CLI's flags never disagree with the studio's forms.

`param_options(params)` adds one option per parameter: ``--learning-rate`` for `learning_rate`, typed by
its kind, with its help sentence, range and default. Options default to None so that a command can tell
what the user gave (`given_values`) from what a preset or the declaration supplies; a value is checked
with `Param.validate`, so an out-of-range flag fails with the declaration's own sentence.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from opencomposer.errors import ParameterError
from opencomposer.studio.words import with_article
from opencomposer.techniques.base import SEED, Param, ParamValue

F = TypeVar("F", bound=Callable[..., Any])

_TYPES: dict[str, click.types.ParamType[Any]] = {"int": click.INT, "float": click.FLOAT}


def flag_name(param: Param) -> str:
    """The option's flag: ``--`` and the name with dashes (``--learning-rate``)."""
    return "--" + param.name.replace("_", "-")


def option_help(param: Param) -> str:
    """The help text: the declaration's sentence, then its range or choices and its default."""
    unit = f" {param.unit}" if param.unit else ""
    if param.kind in ("int", "float"):
        limits = f"{_number(param.minimum)} to {_number(param.maximum)}{unit}"
    elif param.kind == "choice":
        limits = ", ".join(param.choices)
    else:
        limits = "on or off"
    return f"{param.help} [{limits}; default: {_value(param.default)}{unit if param.kind != 'choice' else ''}]"


def _number(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _value(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return _number(value) if isinstance(value, int | float) else str(value)


def _validator(param: Param) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def validate(context: click.Context, option: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return param.validate(value)
        except ParameterError as error:
            raise click.BadParameter(str(error), ctx=context, param=option) from None

    return validate


def param_option(param: Param) -> Callable[[F], F]:
    """One click option for one declared parameter."""
    if param.kind == "bool":
        flag = param.name.replace("_", "-")
        return click.option(
            f"--{flag}/--no-{flag}", param.name, default=None, help=option_help(param), callback=_validator(param)
        )
    kind = click.Choice(param.choices) if param.kind == "choice" else _TYPES[param.kind]
    return click.option(
        flag_name(param),
        param.name,
        type=kind,
        default=None,
        help=option_help(param),
        callback=_validator(param),
        metavar=param.kind.upper() if param.kind != "choice" else None,
    )


def param_options(params: Sequence[Param]) -> Callable[[F], F]:
    """A decorator adding an option for each parameter, in the declared order."""

    def decorate(function: F) -> F:
        for param in reversed(params):
            function = param_option(param)(function)
        return function

    return decorate


def given_values(params: Sequence[Param], values: Mapping[str, Any]) -> dict[str, ParamValue]:
    """The parameters the user gave on the command line (options left at None are left out)."""
    return {param.name: values[param.name] for param in params if values.get(param.name) is not None}


def command_line(context: click.Context) -> str:
    """The command that was run, rebuilt from what click parsed, for a model card to record.

    Only the options and arguments the user gave appear (as ``opencomposer train gan --dataset tiny ...``),
    so running it again reproduces the run; `sys.argv` would not do, since it names whatever process called
    the command (a test runner, a worker).
    """
    words = ["opencomposer", *context.command_path.split()[1:]]  # the program's name, however it was called
    for option in context.command.params:
        name = option.name
        if name is None or context.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            continue
        value = context.params[name]
        if isinstance(option, click.Argument):
            words.extend(str(item) for item in (value if isinstance(value, list | tuple) else [value]))
        elif isinstance(option, click.Option) and option.is_flag:
            flags = option.opts if value else option.secondary_opts
            words.append(flags[0] if flags else option.opts[0])
        elif isinstance(option, click.Option):
            for item in value if option.multiple else [value]:
                words.extend([option.opts[0], str(item)])
    return shlex.join(words)


def run_options(generate_command: str) -> Callable[[F], F]:
    """The options every `opencomposer train ...` command has: --out, --name, --device, --install.

    `generate_command` names the command that uses the trained model (``generate accompany``), for the
    help of --install.
    """
    options = (
        click.option(
            "--out",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="The run's folder: checkpoints, events.jsonl, evaluation samples and the trained model.",
        ),
        click.option("--name", default=None, help="The model's name (default: the --out folder's name)."),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
            help="Where to train; auto uses a GPU when there is one.",
        ),
        click.option(
            "--install/--no-install",
            default=True,
            show_default=True,
            help=f"Also add the trained model to your models, so `opencomposer {generate_command} --model NAME` "
            "finds it.",
        ),
    )

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def generation_options(verb: str, default_model: str, melody_help: str) -> Callable[[F], F]:
    """The options every `opencomposer generate ...` command has: --model, --melody, --seed, --out.

    `verb` names the technique its models serve (``accompany``), for the help of --model; `melody_help`
    says what the input may be.
    """
    options = (
        click.option(
            "--model",
            default=default_model,
            show_default=True,
            help=f"{with_article(verb).capitalize()} model's name (see `opencomposer models list`) or the "
            "path of a model's .json card.",
        ),
        click.option(
            "--genre",
            default=None,
            help=f"Pick the {verb} model of this genre instead of naming one (jazz, rock, pop, symphony, chorale, "
            "folk, classical: see the genre column of `opencomposer models list`).",
        ),
        click.option("--melody", required=True, help=melody_help),
        param_option(SEED),
        click.option(
            "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The MIDI file to write."
        ),
    )

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate
