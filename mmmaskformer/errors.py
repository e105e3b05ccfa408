"""Errors that stop a run with one message (no traceback from deep inside).

``tools/train.py`` and ``tools/test.py`` catch :class:`RunStopped` and print
its message; everything else propagates as usual.
"""


def printable(text) -> str:
    """``text`` as a string that every log handler and terminal can write.

    A file name that is not valid UTF-8 reaches Python with surrogate
    escapes (``'\\udcff'``), which a UTF-8 log file refuses to encode: the
    message is lost, with a "Logging error" traceback. Here such bytes are
    written as ``\\xff``.
    """
    text = str(text)
    try:
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        pass
    try:  # the bytes of a file name, shown as \\xNN where not UTF-8
        return text.encode('utf-8', 'surrogateescape').decode(
            'utf-8', 'backslashreplace')
    except UnicodeEncodeError:  # other lone surrogates
        return text.encode('utf-8', 'backslashreplace').decode('utf-8')


class RunStopped(RuntimeError):
    """Base class: the run stops on purpose, and the message says why
    (made :func:`printable`, so that it reaches the log file)."""

    marker = 'RunStopped'

    def __init__(self, message='', *args) -> None:
        super().__init__(printable(message), *args)

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
