"""A run that stops on purpose ends with one line, under any ``train.py``.

Our ``tools/train.py`` and ``tools/test.py`` catch
:class:`~mmmaskformer.errors.RunStopped` themselves. mmseg's and mmdet's
own tools do not: ``runner.train()`` raises, and Python prints a traceback
from deep inside the loop. :func:`one_line_stops` installs a
``sys.excepthook`` (Python's public seam for uncaught exceptions) that
prints such an error as the same single ``ERROR (<Name>): <message>`` line,
writes it to the run's log, and leaves every other exception to the
previous hook. The exit status stays 1. An error that every rank raised
alike (``same_on_every_rank``) is printed by rank 0 only.

:class:`~.checkpoint_hook.AtomicCheckpointHook` installs it in
``before_run`` and removes it in ``after_run`` (a run that raises never
reaches ``after_run``, so the hook is in place when Python reports it).
"""
import logging
import sys

from mmmaskformer.errors import RunStopped


def one_line_text(error: BaseException) -> str:
    """The message on one line (for an error re-raised by a DataLoader
    worker, the original message, without the worker's traceback)."""
    text = str(error)
    if isinstance(error, RunStopped):
        text = type(error).clean_message(text)
    return ' '.join(text.split('\n'))


def _rank() -> int:
    try:
        from mmengine.dist import get_rank
        return get_rank()
    except Exception:  # noqa: BLE001 -- no process group: one process
        return 0


class OneLineStopHook:
    """A ``sys.excepthook`` replacement: see the module docstring."""

    def __init__(self, previous):
        self.previous = previous

    def __call__(self, exc_type, exc, tb):
        if exc is None or not isinstance(exc, RunStopped):
            return self.previous(exc_type, exc, tb)
        if getattr(exc, 'same_on_every_rank', False) and _rank() > 0:
            return  # every rank stopped alike: rank 0 says it
        text = one_line_text(exc)
        try:  # into the run's log file too, as our tools log it
            from mmengine.logging import print_log
            print_log(f'{type(exc).__name__}: {text}', logger='current',
                      level=logging.ERROR)
        except Exception:  # noqa: BLE001 -- the line below must still print
            pass
        sys.stderr.write(f'\nERROR ({type(exc).__name__}): {text}\n')
        sys.stderr.flush()


def one_line_stops() -> None:
    """Install :class:`OneLineStopHook` (once)."""
    if not isinstance(sys.excepthook, OneLineStopHook):
        sys.excepthook = OneLineStopHook(sys.excepthook)


def restore_excepthook() -> None:
    """Undo :func:`one_line_stops`."""
    if isinstance(sys.excepthook, OneLineStopHook):
        sys.excepthook = sys.excepthook.previous
