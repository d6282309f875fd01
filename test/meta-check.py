#!/usr/bin/python3
# Copyright (c) 2026, the queue authors
"""test/meta-check.py -- check META.json against the PGXN Meta Spec 1.0.0
(the required keys and their forms) and against queue.control (version).
Prints one line per problem; exits non-zero if there is any."""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+)?$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
            "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
            "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
            "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}

problems = []
meta = json.loads((ROOT / "META.json").read_text())
control = (ROOT / "queue.control").read_text()
control_version = re.search(r"^default_version = '([^']*)'", control, re.M).group(1)

for key in ("name", "abstract", "maintainer", "version", "license", "provides", "meta-spec"):
    if key not in meta:
        problems.append(f"missing required key {key}")
if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", meta.get("name", "")) or len(meta.get("name", "")) < 2:
    problems.append("name: not a valid PGXN name")
if not SEMVER.match(meta.get("version", "")):
    problems.append("version: not a semantic version")
if meta.get("version") != control_version:
    problems.append(f"version {meta.get('version')} is not queue.control's {control_version}")
if meta.get("license") not in LICENSES:
    problems.append(f"license {meta.get('license')!r} is not a PGXN license string")
if meta.get("meta-spec", {}).get("version") != "1.0.0":
    problems.append("meta-spec.version must be 1.0.0")
maintainer = meta.get("maintainer")
if not (isinstance(maintainer, str) or (isinstance(maintainer, list) and maintainer
                                        and all(isinstance(m, str) for m in maintainer))):
    problems.append("maintainer: a string or a list of strings")
provides = meta.get("provides", {})
if not provides:
    problems.append("provides: empty")
for ext, p in provides.items():
    for key in ("file", "version"):
        if key not in p:
            problems.append(f"provides.{ext}: missing {key}")
    if not SEMVER.match(p.get("version", "")):
        problems.append(f"provides.{ext}.version: not a semantic version")
    if p.get("version") != control_version:
        problems.append(f"provides.{ext}.version is not queue.control's {control_version}")
    for key in ("file", "docfile"):
        if key in p and not (ROOT / p[key]).is_file():
            problems.append(f"provides.{ext}.{key}: no file {p[key]}")
for phase, relations in meta.get("prereqs", {}).items():
    if phase not in PHASES:
        problems.append(f"prereqs: unknown phase {phase}")
    for relation in relations:
        if relation not in RELATIONS:
            problems.append(f"prereqs.{phase}: unknown relation {relation}")
if meta.get("release_status", "stable") not in ("stable", "testing", "unstable"):
    problems.append("release_status: stable, testing or unstable")
known = {"name", "abstract", "description", "version", "maintainer", "license", "provides",
         "prereqs", "release_status", "generated_by", "no_index", "tags", "resources",
         "meta-spec"}
for key in meta:
    if key not in known and not key.startswith("x_") and not key.startswith("X_"):
        problems.append(f"unknown key {key} (custom keys start with x_)")

for p in problems:
    print(f"META.json: {p}")
if not problems:
    print(f"META.json: valid (PGXN Meta Spec 1.0.0), version {meta['version']}")
sys.exit(1 if problems else 0)
