"""``--cfg-options`` keys that would be silently ignored.

mmengine merges ``--cfg-options a.b=v`` by creating ``a`` when the config
has no such top-level key, and the Runner never reads it: a misspelt or
mis-rooted key (``backbone.model_name=...`` for
``model.backbone.model_name=...``) changes nothing and says nothing. Here a
key whose first component is neither a key of the config nor an argument
of mmengine's ``Runner`` is an error that names the key and, where the
component exists deeper in the config, the full key that was meant.
"""
import inspect
from typing import Iterable, List, Mapping

from mmengine.runner import Runner

from mmmaskformer.errors import ConfigError

RUNNER_ARGS = frozenset(inspect.signature(Runner.__init__).parameters) - {
    'self'}


def _paths_to(cfg: Mapping, name: str, prefix: str = '') -> List[str]:
    """Every dotted path in ``cfg`` (dicts only) that ends with ``name``."""
    found = []
    for key, value in cfg.items():
        path = f'{prefix}{key}'
        if key == name and prefix:
            found.append(path)
        if isinstance(value, Mapping):
            found.extend(_paths_to(value, name, path + '.'))
    return found


def check_cfg_options(cfg: Mapping, options: Iterable[str],
                      source: str = '--cfg-options') -> None:
    """Raise :class:`ConfigError` for option keys nothing would read."""
    problems = []
    for key in options:
        root, _, rest = key.partition('.')
        if root in cfg or root in RUNNER_ARGS:
            continue
        meant = [p + (f'.{rest}' if rest else '')
                 for p in _paths_to(cfg, root)]
        hint = f'; did you mean {" or ".join(meant)}?' if meant else ''
        problems.append(f'{source} {key}: the config has no key {root!r} '
                        f'and the Runner takes no argument {root!r}, so '
                        f'nothing would read it{hint}')
    if problems:
        raise ConfigError('\n'.join(problems))
