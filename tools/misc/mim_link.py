"""Make an editable (PEP 660) install of mmmaskformer visible to OpenMIM.

    python tools/misc/mim_link.py            (tools/install.sh runs it)

OpenMIM 0.3.9 (the newest release) finds a package's ``.mim`` resources at
``<distribution location>/<package>``, i.e. ``site-packages/mmmaskformer``.
A PEP 660 editable install puts only its metadata and an import hook into
site-packages, so ``mim search/train/test mmmaskformer`` would fail with a
missing ``model-index.yml``. This script puts a symbolic link
``site-packages/mmmaskformer -> <checkout>/mmmaskformer`` there (the package
itself, whose ``.mim`` links to the checkout's configs/tools/demo) and lists
it in the distribution's RECORD, so that ``pip uninstall mmmaskformer``
removes it with the rest. Imports then resolve through the link to the same
checkout files as through the editable hook. A regular (wheel) install
already has the directory, and the script leaves it alone.
"""
import importlib.metadata
import os
import os.path as osp
import sys

PACKAGE = 'mmmaskformer'


def link_for_mim(checkout: str) -> str:
    """Create (or refresh) the link; return what mim will find there."""
    dist = importlib.metadata.distribution(PACKAGE)
    site = osp.abspath(str(dist.locate_file('')))
    link, target = osp.join(site, PACKAGE), osp.join(checkout, PACKAGE)
    if osp.isdir(link) and not osp.islink(link):
        if osp.realpath(link) == osp.realpath(target):
            return link  # the checkout is itself in site-packages
        files = [str(f) for f in (dist.files or [])]
        if any(f.startswith(PACKAGE + '/') for f in files):
            return link  # a regular install: .mim was copied in
        raise SystemExit(
            f'{link} is a directory that no installed distribution owns; '
            'remove it and rerun tools/install.sh')
    if osp.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    record = [f for f in (dist.files or []) if f.name == 'RECORD']
    if record:
        path = str(record[0].locate())
        with open(path) as f:
            lines = f.read().splitlines()
        if f'{PACKAGE},,' not in lines:
            with open(path, 'a') as f:
                f.write(f'{PACKAGE},,\n')
    return link


def main():
    checkout = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    link = link_for_mim(checkout)
    index = osp.join(link, '.mim', 'model-index.yml')
    if not osp.isfile(index):
        sys.exit(f'{index} is missing: reinstall with tools/install.sh')
    print(f'[install] OpenMIM finds mmmaskformer at {link} '
          f'-> {osp.realpath(link)}')


if __name__ == '__main__':
    main()
