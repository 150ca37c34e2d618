#!/usr/bin/env python3
"""test/package/check_meta.py: validate a META.json against the PGXN Meta
Spec v1.0.0 (https://pgxn.org/meta/spec.txt): required keys and their types,
term and version formats, licenses, prereqs, resources.  Also checks it
against the repository: version equals pgmq.control's default_version and
every provided extension's file exists.

Usage: check_meta.py [--repo DIR] META.json     exit 0 when valid
       check_meta.py --self-test [--repo DIR] META.json
           the file must be valid, and each of a list of broken copies of it
           must be rejected (so the checker cannot pass everything)
"""
import copy
import json
import os
import re
import sys

# SemVer 1.0.0, as PGXN uses it: x.y.z with an optional prerelease tag
SEMVER = re.compile(r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)([A-Za-z][0-9A-Za-z-]*)?$')
# a "term": no slash, backslash, control characters or spaces-only; 2+ chars
TERM = re.compile(r'^[^/\\\x00-\x1f\x7f]{2,}$')
LICENSES = {
    'agpl_3', 'apache_1_1', 'apache_2_0', 'artistic_1', 'artistic_2', 'bsd',
    'freebsd', 'gfdl_1_2', 'gfdl_1_3', 'gpl_1', 'gpl_2', 'gpl_3', 'lgpl_2_1',
    'lgpl_3_0', 'mit', 'mozilla_1_0', 'mozilla_1_1', 'openssl', 'perl_5',
    'postgresql', 'qpl_1_0', 'ssleay', 'sun', 'zlib', 'open_source',
    'restricted', 'unrestricted', 'unknown'}
PHASES = {'configure', 'build', 'test', 'runtime', 'develop'}
RELATIONS = {'requires', 'recommends', 'suggests', 'conflicts'}
STATUSES = {'stable', 'testing', 'unstable'}
TOP_KEYS = {'name', 'abstract', 'description', 'version', 'maintainer', 'license',
            'provides', 'prereqs', 'release_status', 'generated_by', 'tags',
            'no_index', 'resources', 'meta-spec'}


def is_str(v):
    return isinstance(v, str) and v.strip() != ''


def check_version_range(v):
    # "0", a version, or comma-separated "op version" clauses
    if v == 0 or v == '0':
        return True
    if not isinstance(v, str):
        return False
    for clause in v.split(','):
        m = re.match(r'^\s*(==|!=|>=|<=|>|<)?\s*(\S+)\s*$', clause)
        if not m or not SEMVER.match(m.group(2)):
            return False
    return True


def validate(meta, repo=None):
    """Return the list of problems of meta (a parsed META.json)."""
    errs = []
    if not isinstance(meta, dict):
        return ['META.json must hold an object']
    for k in ('name', 'abstract', 'maintainer', 'license', 'provides', 'version', 'meta-spec'):
        if k not in meta:
            errs.append('missing required key "%s"' % k)
    for k in meta:
        if k not in TOP_KEYS and not k.lower().startswith('x_'):
            errs.append('unknown key "%s" (custom keys start with x_)' % k)
    if 'name' in meta and not (isinstance(meta['name'], str) and TERM.match(meta['name'])):
        errs.append('name must be a term (2+ characters, no / \\ or control characters)')
    for k in ('abstract', 'description', 'generated_by'):
        if k in meta and not is_str(meta[k]):
            errs.append('%s must be a non-empty string' % k)
    if 'version' in meta and not (isinstance(meta['version'], str) and SEMVER.match(meta['version'])):
        errs.append('version must be a semantic version (x.y.z)')
    m = meta.get('maintainer')
    if 'maintainer' in meta and not (is_str(m) or (isinstance(m, list) and m and all(is_str(x) for x in m))):
        errs.append('maintainer must be a string or a non-empty array of strings')
    lic = meta.get('license')
    if 'license' in meta:
        if isinstance(lic, str):
            if lic not in LICENSES:
                errs.append('license "%s" is not a PGXN license name' % lic)
        elif isinstance(lic, list):
            if not lic or not all(isinstance(x, str) and x in LICENSES for x in lic):
                errs.append('license array must hold PGXN license names')
        elif isinstance(lic, dict):
            if not lic or not all(is_str(k) and is_str(v) for k, v in lic.items()):
                errs.append('license object must map names to URLs')
        else:
            errs.append('license must be a string, an array or an object')
    prov = meta.get('provides')
    if 'provides' in meta:
        if not isinstance(prov, dict) or not prov:
            errs.append('provides must be a non-empty object')
        else:
            for ext, p in prov.items():
                if not TERM.match(ext):
                    errs.append('provides: "%s" is not a term' % ext)
                if not isinstance(p, dict):
                    errs.append('provides.%s must be an object' % ext)
                    continue
                for k in ('file', 'version'):
                    if k not in p:
                        errs.append('provides.%s lacks "%s"' % (ext, k))
                if 'version' in p and not (isinstance(p['version'], str) and SEMVER.match(p['version'])):
                    errs.append('provides.%s.version must be a semantic version' % ext)
                for k in ('file', 'docfile', 'abstract'):
                    if k in p and not is_str(p[k]):
                        errs.append('provides.%s.%s must be a non-empty string' % (ext, k))
                for k in p:
                    if k not in ('file', 'version', 'abstract', 'docfile') and not k.lower().startswith('x_'):
                        errs.append('provides.%s: unknown key "%s"' % (ext, k))
                if repo is not None:
                    for k in ('file', 'docfile'):
                        if is_str(p.get(k)) and not os.path.isfile(os.path.join(repo, p[k])):
                            errs.append('provides.%s.%s: %s does not exist' % (ext, k, p[k]))
    spec = meta.get('meta-spec')
    if 'meta-spec' in meta:
        if not isinstance(spec, dict) or spec.get('version') != '1.0.0':
            errs.append('meta-spec must be an object with version "1.0.0"')
        elif 'url' in spec and not is_str(spec['url']):
            errs.append('meta-spec.url must be a string')
    if 'release_status' in meta and meta['release_status'] not in STATUSES:
        errs.append('release_status must be one of %s' % sorted(STATUSES))
    if 'tags' in meta:
        t = meta['tags']
        if not isinstance(t, list) or not all(is_str(x) and len(x) <= 255 for x in t):
            errs.append('tags must be an array of non-empty strings of at most 255 characters')
    if 'no_index' in meta:
        ni = meta['no_index']
        if not isinstance(ni, dict) or any(k not in ('file', 'directory') for k in ni) or \
                not all(is_str(v) or (isinstance(v, list) and all(is_str(x) for x in v)) for v in ni.values()):
            errs.append('no_index must map "file"/"directory" to strings or arrays of strings')
    if 'prereqs' in meta:
        pr = meta['prereqs']
        if not isinstance(pr, dict):
            errs.append('prereqs must be an object')
        else:
            for phase, rels in pr.items():
                if phase not in PHASES:
                    errs.append('prereqs: unknown phase "%s"' % phase)
                    continue
                if not isinstance(rels, dict):
                    errs.append('prereqs.%s must be an object' % phase)
                    continue
                for rel, deps in rels.items():
                    if rel not in RELATIONS:
                        errs.append('prereqs.%s: unknown relationship "%s"' % (phase, rel))
                    elif not isinstance(deps, dict):
                        errs.append('prereqs.%s.%s must be an object' % (phase, rel))
                    else:
                        for dep, ver in deps.items():
                            if not check_version_range(ver):
                                errs.append('prereqs.%s.%s.%s: bad version "%s"' % (phase, rel, dep, ver))
    if 'resources' in meta:
        r = meta['resources']
        if not isinstance(r, dict):
            errs.append('resources must be an object')
        else:
            for k, v in r.items():
                if k == 'homepage' and not is_str(v):
                    errs.append('resources.homepage must be a URL string')
                elif k in ('bugtracker', 'repository') and not isinstance(v, dict):
                    errs.append('resources.%s must be an object' % k)
                elif k not in ('homepage', 'bugtracker', 'repository') and not k.lower().startswith('x_'):
                    errs.append('resources: unknown key "%s"' % k)
    if repo is not None and isinstance(meta.get('version'), str):
        ctl = open(os.path.join(repo, 'pgmq.control')).read()
        mv = re.search(r"^default_version\s*=\s*'([^']*)'", ctl, re.M)
        if not mv or mv.group(1) != meta['version']:
            errs.append('version %s differs from pgmq.control default_version %s'
                        % (meta['version'], mv.group(1) if mv else '?'))
        pv = (prov or {}).get('pgmq', {}) if isinstance(prov, dict) else {}
        if isinstance(pv, dict) and pv.get('version') != meta['version']:
            errs.append('provides.pgmq.version differs from version')
    return errs


def broken_copies(meta):
    """(what, broken meta) pairs that a correct validator must reject."""
    def without(k):
        m = copy.deepcopy(meta)
        del m[k]
        return m

    def with_(path, v):
        m = copy.deepcopy(meta)
        d = m
        for p in path[:-1]:
            d = d[p]
        d[path[-1]] = v
        return m
    cases = [('no %s' % k, without(k)) for k in
             ('name', 'abstract', 'maintainer', 'license', 'provides', 'version', 'meta-spec')]
    cases += [
        ('version not semver', with_(['version'], '1.13')),
        ('unknown license', with_(['license'], 'wtfpl')),
        ('meta-spec 2.0', with_(['meta-spec'], {'version': '2.0.0'})),
        ('name with slash', with_(['name'], 'pg/mq')),
        ('empty provides', with_(['provides'], {})),
        ('provides without file', with_(['provides', 'pgmq'], {'version': meta['version']})),
        ('provided file missing', with_(['provides', 'pgmq', 'file'], 'sql/nope.sql')),
        ('bad release_status', with_(['release_status'], 'final')),
        ('bad prereq phase', with_(['prereqs'], {'install': {}})),
        ('bad prereq version', with_(['prereqs'], {'runtime': {'requires': {'PostgreSQL': 'fifteen'}}})),
        ('tags not array', with_(['tags'], 'queue')),
        ('unknown top key', with_(['homepage'], 'x')),
        ('version differs from control', with_(['version'], '9.9.9')),
    ]
    return cases


def main(argv):
    self_test = '--self-test' in argv
    argv = [a for a in argv if a != '--self-test']
    repo = None
    if '--repo' in argv:
        i = argv.index('--repo')
        repo = argv[i + 1]
        del argv[i:i + 2]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[0]
    if repo is None:
        repo = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        meta = json.load(f)
    errs = validate(meta, repo)
    for e in errs:
        print('%s: %s' % (path, e), file=sys.stderr)
    if errs:
        return 1
    print('%s: valid PGXN META (spec 1.0.0), version %s' % (path, meta['version']))
    if self_test:
        bad = 0
        for what, m in broken_copies(meta):
            if validate(m, repo):
                print('ok: rejected: %s' % what)
            else:
                print('FAIL: accepted: %s' % what, file=sys.stderr)
                bad += 1
        if bad:
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
