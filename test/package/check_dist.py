#!/usr/bin/env python3
"""test/package/check_dist.py ZIP: the archive `make dist` made is what PGXN
expects: every entry under one top directory <name>-<version>/, a valid
META.json in it whose name and version match that directory, and the build
files (Makefile, pgmq.control, the provided SQL file) present."""
import json
import os
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_meta  # noqa: E402


def main(path):
    z = zipfile.ZipFile(path)
    names = z.namelist()
    tops = {n.split('/', 1)[0] for n in names}
    if len(tops) != 1:
        sys.exit('%s: expected one top directory, found %s' % (path, sorted(tops)))
    top = tops.pop()
    meta = json.loads(z.read(top + '/META.json'))
    expected = '%s-%s' % (meta.get('name'), meta.get('version'))
    if top != expected:
        sys.exit('%s: top directory %s, META.json says %s' % (path, top, expected))
    with tempfile.TemporaryDirectory() as d:
        z.extractall(d)
        errs = check_meta.validate(meta, os.path.join(d, top))
    for f in ('Makefile', 'pgmq.control', 'LICENSE', 'README.md'):
        if top + '/' + f not in names:
            errs.append('missing %s' % f)
    if errs:
        sys.exit('\n'.join('%s: %s' % (path, e) for e in errs))
    print('%s: PGXN archive %s, %d files' % (path, top, len(names)))


if __name__ == '__main__':
    main(sys.argv[1])
