"""torch's launcher (``torchrun``) for ``tools/dist_train.sh`` and
``tools/dist_test.sh``, with the same arguments.

When a process fails, torchrun raises ``ChildFailedError`` and Python prints
the launcher's own traceback after the processes' messages. A run that
stopped on purpose has already said why in one ``ERROR (...)`` line (rank
0's, see ``mmmaskformer.utils.tool_config.stops_with_one_message``), so
here the launcher ends with a one-line summary and the processes' exit
status instead.

    python tools/dist_launch.py --nproc_per_node=2 tools/train.py CONFIG \\
        --launcher pytorch
"""
import sys

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import parse_args, run


def main(argv=None) -> None:
    try:
        run(parse_args(argv))
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        print(f'dist_launch: {len(e.failures)} process(es) failed, the '
              f'first rank {rank} with exit code {failure.exitcode} (their '
              'messages are above)', file=sys.stderr)
        raise SystemExit(failure.exitcode if failure.exitcode > 0 else 1)


if __name__ == '__main__':
    main()
