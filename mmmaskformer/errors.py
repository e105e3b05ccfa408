"""Errors that stop a run with one message (no traceback from deep inside).

``tools/train.py`` and ``tools/test.py`` catch :class:`RunStopped` and print
its message; everything else propagates as usual.
"""


class RunStopped(RuntimeError):
    """Base class: the run stops on purpose, and the message says why."""

    marker = 'RunStopped'

    @classmethod
    def clean_message(cls, text: str) -> str:
        """The original message of an error re-raised by a DataLoader worker.

        torch re-raises a worker's exception as ``type(e)(msg)`` where
        ``msg`` holds the worker's whole traceback; the original message is
        what follows the last ``<ClassName>: ``.
        """
        marker = f'{cls.__name__}: '
        if 'Original Traceback' in text and marker in text:
            return text.rsplit(marker, 1)[1].strip()
        return text


class BadSampleError(RunStopped):
    """A training/validation/test sample cannot be used (names the file)."""


class NonFiniteLossError(RunStopped):
    """A loss became NaN or inf (names the iteration, terms and files)."""


class CheckpointError(RunStopped):
    """A checkpoint is truncated, corrupt or unsafe to load (names it)."""


class ConfigError(RunStopped):
    """A config or a ``--cfg-options`` key is wrong (names the key)."""


class ResumeMismatchError(RunStopped):
    """A resume would continue a run whose batch size, dataset length or
    learning rate changed since the checkpoint (names what changed)."""
