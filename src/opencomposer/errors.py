"""Errors a user can cause.

Every exception here carries one sentence that says what was wrong and what to do about it. The CLI
prints it without a traceback and exits with status 2; the studio's API turns it into a 4xx answer.
Anything else that escapes is a bug and is allowed to raise loudly.
"""


class OpenComposerError(Exception):
    """Base class of the errors a user can cause and fix."""


class MidiError(OpenComposerError):
    """A MIDI file could not be read or written."""


class ScoreFileError(OpenComposerError):
    """A MusicXML (or other score) file could not be read."""


class TransformError(OpenComposerError):
    """A transform was asked for something it cannot do, such as transposing a note past 0-127."""


class UnknownNameError(OpenComposerError):
    """A name (melody, dataset, model, technique) that does not exist was asked for."""


class DatasetError(OpenComposerError):
    """A dataset cannot be turned into training windows: it is empty, lacks a melody, or does not fit the spec."""


class DownloadError(DatasetError):
    """A dataset could not be downloaded, or the downloaded files do not match their published checksums."""


class ParameterError(OpenComposerError):
    """A parameter of a technique or of training is unknown, of the wrong type or out of its range."""


class NotationError(OpenComposerError):
    """A melody written in the short note notation (such as "C4:q D4:e.") could not be read."""


class EvaluationError(OpenComposerError):
    """A set of pieces cannot be evaluated: no file of it could be read, or it holds no notes."""


class TrainingError(OpenComposerError):
    """A training run cannot start or go on: its data is too small, or its folder holds another run's checkpoints."""


class ModelFileError(OpenComposerError):
    """A model's files are missing or damaged, or a model cannot be saved under the name asked for."""


class UploadTooLargeError(OpenComposerError):
    """An uploaded file or request is larger than the studio accepts."""


class StateConflictError(OpenComposerError):
    """A request does not fit the present state of what it names (resuming a running job, deleting a shipped model)."""


class AudioUnavailableError(OpenComposerError):
    """Audio cannot be rendered on this machine: the synthesizer, its soundfont or an encoder is missing."""


class StudioConfigError(OpenComposerError):
    """The studio cannot start with the settings given (such as a public address without a token)."""


class LimitExceededError(OpenComposerError):
    """A request is within every parameter's range but past one of the studio's budgets (time, length, memory)."""


class ShareBundleError(OpenComposerError):
    """A share bundle cannot be imported: it is not a zip archive, holds an entry it should not, or its card is bad."""
