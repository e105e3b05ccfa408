"""The package is layered; a lower layer never imports a higher one.

    0  errors, structures, registry, utils    (the ground floor)
    1  layers                                  (plain torch blocks)
    2  models, datasets, evaluation, converters
    3  engine                                  (run-level guarantees)
    4  apis                                    (inference for users)

Every import is counted, also those inside functions.
"""
import ast
import glob
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(REPO, 'mmmaskformer')
LAYERS = {'errors': 0, 'structures': 0, 'registry': 0, 'utils': 0,
          'layers': 1, 'models': 2, 'datasets': 2, 'evaluation': 2,
          'converters': 2, 'engine': 3, 'apis': 4}


def part_of(module: str) -> str:
    """'mmmaskformer.models.heads.x' -> 'models'."""
    return module.split('.')[1]


def imports_of(path: str):
    """The mmmaskformer modules a file imports, resolved to absolute
    names."""
    rel = osp.relpath(path, REPO)[:-3].replace(osp.sep, '.')
    package = rel.rsplit('.', 1)[0] if not rel.endswith('__init__') \
        else rel[:-len('.__init__')]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                mod = '.'.join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ''
            names = [mod] + [f'{mod}.{a.name}' for a in node.names
                             if not node.module]
        else:
            continue
        for name in names:
            if name.startswith('mmmaskformer.'):
                yield node.lineno, name


FILES = sorted(p for p in glob.glob(osp.join(PACKAGE, '**', '*.py'),
                                    recursive=True)
               if osp.dirname(p) != PACKAGE or
               osp.basename(p)[:-3] in LAYERS)


def test_every_part_has_a_layer():
    parts = {osp.relpath(p, PACKAGE).split(osp.sep)[0].replace('.py', '')
             for p in FILES}
    assert parts == set(LAYERS), parts ^ set(LAYERS)


@pytest.mark.parametrize('path', FILES,
                         ids=lambda p: osp.relpath(p, PACKAGE))
def test_no_import_from_a_higher_layer(path):
    own = part_of('mmmaskformer.' + osp.relpath(path, PACKAGE).replace(
        osp.sep, '.'))
    own = own[:-3] if own.endswith('.py') else own
    up = [(line, name) for line, name in imports_of(path)
          if LAYERS[part_of(name)] > LAYERS[own]]
    assert not up, f'{osp.relpath(path, REPO)} (layer {LAYERS[own]}, ' \
        f'{own}) imports a higher layer: {up}'


def test_the_check_sees_relative_and_lazy_imports(tmp_path):
    fake = osp.join(PACKAGE, 'utils', '_layering_probe.py')
    src = ('def f():\n    from ..engine import loops\n'
           'from mmmaskformer.apis import inferencer\n')
    with open(fake, 'w') as f:
        f.write(src)
    try:
        found = {name for _, name in imports_of(fake)}
    finally:
        import os
        os.remove(fake)
    assert {'mmmaskformer.engine', 'mmmaskformer.apis'} <= found, found
