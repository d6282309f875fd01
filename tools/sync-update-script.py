#!/usr/bin/env python3
"""tools/sync-update-script.py -- keep an update script's function and view
texts the same as sql/queue.sql's.

    python3 -I tools/sync-update-script.py sql/queue--0.4.0--0.5.0.sql

Run from the repository root.  It rewrites the update script in place:

  - a line "-- @copy CREATE FUNCTION queue.NAME(" (or "-- @copy CREATE VIEW
    queue.NAME") is replaced by the statement of sql/queue.sql that starts
    with that text; "-- @copy or replace ..." makes it CREATE OR REPLACE;
  - every CREATE [OR REPLACE] FUNCTION/VIEW already in the update script
    takes the text sql/queue.sql has for it now (matched by its first
    line, or by name when there is one of that name), keeping its
    OR REPLACE;
  - the comment block, from the line "-- The API" to the end, is copied
    from sql/queue.sql.

What the script does not write: ALTER TABLE, DROP FUNCTION (a changed
signature), GRANT/REVOKE, data conversions.  TAP test 009 compares a
database updated with the script to a fresh install, object by object.
Used to build sql/queue--0.4.0--0.5.0.sql; issue 15 asks for the install
and update scripts to be assembled from one source per function, which
this is a first step towards.
"""
import re
import sys

SRC = open('sql/queue.sql').read()


def stmt_end(text, i):
    """The end of the statement starting at i: a $$ body's closing $$ and
    the semicolon after it, or the first semicolon at a line end."""
    semi = text.find(';\n', i)
    k = text.find('$$', i)
    if k != -1 and k < semi:
        close = text.index('$$', k + 2)
        return text.index(';\n', close) + 2
    return semi + 2


def definition(head):
    i = SRC.index(head)
    return SRC[i:stmt_end(SRC, i)]


def or_replace(text):
    return (text.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION', 1)
                .replace('CREATE VIEW', 'CREATE OR REPLACE VIEW', 1))


def main(path):
    out = open(path).read()
    out = re.sub(r'^-- @copy(?P<orr> or replace)? (.*)\n',
                 lambda m: or_replace(definition(m.group(2))) if m.group('orr')
                 else definition(m.group(2)),
                 out, flags=re.M)
    pat = re.compile(r'^CREATE (OR REPLACE )?(FUNCTION|VIEW) (queue\.[a-z_"]+)(\(|\s)', re.M)
    res, pos = [], 0
    while True:
        m = pat.search(out, pos)
        if not m:
            res.append(out[pos:])
            break
        res.append(out[pos:m.start()])
        end = stmt_end(out, m.start())
        old = out[m.start():end]
        first = old.split('\n', 1)[0].replace('CREATE OR REPLACE ', 'CREATE ')
        cands = list(re.finditer(r'^CREATE (FUNCTION|VIEW) ' + re.escape(m.group(3)) + r'(\(|\s)',
                                 SRC, re.M))
        new = None
        for c in cands:
            t = SRC[c.start():stmt_end(SRC, c.start())]
            if t.split('\n', 1)[0] == first:
                new = t
        if new is None and len(cands) == 1:
            new = SRC[cands[0].start():stmt_end(SRC, cands[0].start())]
        if new is None:
            print('kept as it is: ' + first, file=sys.stderr)
            new = old
        elif m.group(1):
            new = or_replace(new)
        res.append(new)
        pos = end
    out = ''.join(res)
    i = out.index('-- The API\n')
    out = out[:i] + SRC[SRC.index('-- The API\n'):]
    open(path, 'w').write(out)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: tools/sync-update-script.py sql/queue--A--B.sql')
    main(sys.argv[1])
