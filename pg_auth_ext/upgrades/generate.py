#!/usr/bin/env python3
"""Builds the extension's SQL that is not written by hand, into
pg_auth_ext/sql/, as timescale's promscale builds its own: the upgrade
scripts pg_auth_ext--A--CURRENT.sql, one for every earlier version A, and
bootstrap.sql, where a fresh install starts (lib.rs includes it).

Two kinds of SQL, kept apart:
- the schema: 0.1.0.sql (the first release's install script) and the
  migrations (A--B.sql: the schema changes from A to B and the C
  declarations of B), written by hand and frozen once released (their
  hashes are in released.sha256). A migration declares a C function
  as `create or replace function auth.NAME(...) ... language c;` and this
  adds where it lives, pgrx's NAME_wrapper in the library (0.1.0--0.2.0.sql,
  older, holds pgrx's own text). A line `-- @code` splits each migration
  into what runs before the code and what runs after it (triggers, grants),
  which only upgrades need: a fresh install's code creates those itself.
- code: every function of src/install_sql/ as it is now, as CREATE OR
  REPLACE in the upgrade scripts: idempotent, never copied by hand.

A script from A is: each migration from A on (the part before `-- @code`),
then the code, then each migration's part after `-- @code`. A fresh install
runs src/install_sql/guard.sql, 0.1.0.sql and every migration's first part,
then drops every function that made: the tables are those an upgraded
install has, by construction, and the functions are this version's alone.

cargo runs this before it compiles the extension (pg_auth_ext/build.rs):
nothing in sql/ is checked in.

    python3 pg_auth_ext/upgrades/generate.py           # write the files
    python3 pg_auth_ext/upgrades/generate.py --check   # exit 1 if one differs
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXTENSION = HERE.parent
INSTALL_SQL = EXTENSION / "src" / "install_sql"
SCRIPTS = EXTENSION / "sql"
CODE_MARKER = "-- @code\n"
BOOTSTRAP = "bootstrap.sql"
# A migration's C function, to which `link` adds its symbol.
C_FUNCTION = re.compile(r"(create or replace function auth\.(\w+)\([^;]*?language c);", re.DOTALL)
DROP_FUNCTIONS = """-- A fresh install keeps the tables the versions above built and none of
-- their functions: pgrx declares this version's C functions next, and
-- src/install_sql/ the rest.
do $$
declare
    made pg_catalog.regprocedure;
begin
    for made in
        select p.oid::pg_catalog.regprocedure from pg_catalog.pg_proc p
        where p.pronamespace = 'auth'::pg_catalog.regnamespace
    loop
        execute pg_catalog.format('drop function %s', made);
    end loop;
end
$$;"""


def current_version() -> str:
    match = re.search(r'(?m)^version = "([^"]+)"', (EXTENSION / "Cargo.toml").read_text())
    if not match:
        raise SystemExit("generate.py: no version in pg_auth_ext/Cargo.toml")
    return match.group(1)


def migrations() -> list[tuple[str, str, str]]:
    """(from, to, text) of every migration, in the order they apply."""
    found = {}
    for path in HERE.glob("*--*.sql"):
        start, end = path.stem.split("--")
        found[start] = (end, path.read_text())
    ordered, version = [], next((v for v in found if v not in {end for end, _ in found.values()}), None)
    while version in found:
        end, text = found[version]
        if text.count(CODE_MARKER) != 1:
            raise SystemExit(f"generate.py: {version}--{end}.sql needs exactly one '{CODE_MARKER.strip()}' line")
        ordered.append((version, end, link(text)))
        version = end
    if len(ordered) != len(found):
        raise SystemExit("generate.py: the migrations do not form one chain")
    return ordered


def link(migration: str) -> str:
    """The migration with each C function's AS clause."""
    return C_FUNCTION.sub(lambda found: f"{found.group(1)} as 'MODULE_PATHNAME', '{found.group(2)}_wrapper';",
                          migration)


def install_order() -> list[Path]:
    """install_sql's files in the order lib.rs installs them (a function
    written in SQL must come after the functions it calls)."""
    names = re.findall(r'extension_sql_file!\(\s*"install_sql/([^"]+)"', (EXTENSION / "src" / "lib.rs").read_text())
    return [INSTALL_SQL / name for name in names]


def code() -> str:
    """Every `create function auth.…` of install_sql, with the comment above
    it, as CREATE OR REPLACE."""
    pattern = re.compile(r"(?:--[^\n]*\n)*create function auth\.\w+\(.*?\n\$\$;\n", re.DOTALL)
    blocks = [match.group(0).replace("create function auth.", "create or replace function auth.", 1)
              for path in install_order() for match in pattern.finditer(path.read_text())]
    if not blocks:
        raise SystemExit(f"generate.py: no functions in {INSTALL_SQL}")
    return "\n".join(blocks)


def script(start: str, chain: list[tuple[str, str, str]], version: str) -> str:
    steps = chain[[begin for begin, _, _ in chain].index(start):]
    before = [text.split(CODE_MARKER)[0].strip("\n") for _, _, text in steps]
    after = [text.split(CODE_MARKER)[1].strip("\n") for _, _, text in steps]
    parts = [
        f"-- pg_auth_ext {start} to {version}, run by ALTER EXTENSION pg_auth_ext UPDATE.\n"
        "-- Generated by pg_auth_ext/upgrades/generate.py from the migrations there\n"
        "-- and src/install_sql/: edit those, not this file.\n"
        '\\echo Use "ALTER EXTENSION pg_auth_ext UPDATE" to load this file. \\quit',
        *before,
        "-- The code: every function as install_sql has it now.",
        code().strip("\n"),
        *after,
        # New functions are PUBLIC's by default; the event trigger revokes
        # that, but not from a version that did not have it yet.
        "revoke all on all functions in schema auth from public;",
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def bootstrap(chain: list[tuple[str, str, str]]) -> str:
    base = HERE / f"{chain[0][0]}.sql"
    if not base.exists():
        raise SystemExit(f"generate.py: no {base.name}, the install script the first migration starts from")
    parts = [
        "-- Where a fresh install of pg_auth_ext starts (lib.rs, bootstrap).\n"
        "-- Generated by pg_auth_ext/upgrades/generate.py: edit src/install_sql/guard.sql\n"
        "-- or the newest migration in upgrades/, not this file.",
        (INSTALL_SQL / "guard.sql").read_text().strip("\n"),
        base.read_text().strip("\n"),
        *(text.split(CODE_MARKER)[0].strip("\n") for _, _, text in chain),
        DROP_FUNCTIONS,
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    chain, version = migrations(), current_version()
    if not chain or chain[-1][1] != version:
        raise SystemExit(f"generate.py: the last migration must end at {version} (pg_auth_ext/Cargo.toml)")
    expected = {f"pg_auth_ext--{start}--{version}.sql": script(start, chain, version) for start, _, _ in chain}
    expected[BOOTSTRAP] = bootstrap(chain)
    if check:
        present = {path.name for path in SCRIPTS.glob("pg_auth_ext--*--*.sql")}
        present |= {BOOTSTRAP} if (SCRIPTS / BOOTSTRAP).exists() else set()
        differs = sorted(name for name, text in expected.items()
                         if name not in present or (SCRIPTS / name).read_text() != text)
        differs += sorted(present - expected.keys())
        if differs:
            print(f"not as generated (run {Path(__file__).name}): {', '.join(differs)}", file=sys.stderr)
            return 1
        return 0
    SCRIPTS.mkdir(exist_ok=True)
    for stale in set(SCRIPTS.glob("pg_auth_ext--*--*.sql")) - {SCRIPTS / name for name in expected}:
        stale.unlink()
    for name, text in expected.items():
        if not (SCRIPTS / name).exists() or (SCRIPTS / name).read_text() != text:
            (SCRIPTS / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
