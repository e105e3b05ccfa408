"""The README is a front door and the docs hold together: every page is
reachable from the README, every link and every repository path the docs
name exists (a moved test or tool breaks this test, not the reader)."""
import glob
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAGES = ['README.md', 'configs/README.md'] + sorted(
    osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'docs', '*.md')))
LINK = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')
# a repository path, optionally with ::test_name
PATH = re.compile(r'(?<![\w/.$-])((?:tests|tools|mmmaskformer|configs|demo|docs)'
                  r'/[\w./-]+\.(?:py|sh|md|json|yaml|yml))(?:::(\w+))?')
# paths that the docs show as examples of the user's own files
EXAMPLES = {'configs/maskformer_my_dataset.py'}


def read(page):
    with open(osp.join(REPO, page), encoding='utf-8') as f:
        return f.read()


def links(page):
    for target in LINK.findall(read(page)):
        if '://' not in target:
            yield osp.normpath(osp.join(osp.dirname(page), target))


def test_readme_is_about_200_lines_and_reaches_every_page():
    assert len(read('README.md').splitlines()) <= 250
    seen, todo = set(), ['README.md']
    while todo:
        page = todo.pop()
        if page in seen or not page.endswith('.md'):
            continue
        seen.add(page)
        todo.extend(links(page))
    assert set(PAGES) - seen == set()


def test_every_link_resolves():
    broken = [(page, target) for page in PAGES for target in links(page)
              if not osp.exists(osp.join(REPO, target))]
    assert broken == []


def test_every_named_path_and_test_exists():
    missing = []
    for page in PAGES:
        for path, test in PATH.findall(read(page)):
            if path in EXAMPLES:
                continue
            full = osp.join(REPO, path)
            if not osp.exists(full):
                missing.append((page, path))
            elif test and not re.search(r'def %s\b' % test, read(path)):
                missing.append((page, f'{path}::{test}'))
    assert missing == []
