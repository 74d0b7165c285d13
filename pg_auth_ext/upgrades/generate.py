#!/usr/bin/env python3
"""Writes each upgrade script pg_auth_ext/sql/pg_auth_ext--A--B.sql from its
template here, A--B.sql.in: the schema changes and C declarations as written
(frozen with the release), and, for the line `-- @functions NAME ...`, each
named function of src/install_sql/ as it is now, as CREATE OR REPLACE (the
code, idempotent). A template exists only for the version not yet released;
released scripts never change (their hashes are in released.sha256).

    python3 pg_auth_ext/upgrades/generate.py           # write the scripts
    python3 pg_auth_ext/upgrades/generate.py --check   # exit 1 if one differs
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALL_SQL = HERE.parent / "src" / "install_sql"
SCRIPTS = HERE.parent / "sql"


def function_block(name: str, sources: dict[str, str]) -> str:
    """The comment above `create function auth.NAME(` and the function, up to
    its closing `$$;`, as CREATE OR REPLACE."""
    pattern = re.compile(r"((?:--[^\n]*\n)*)create function auth\." + re.escape(name) + r"\(.*?\n\$\$;\n", re.DOTALL)
    found = [match.group(0) for text in sources.values() for match in pattern.finditer(text)]
    if len(found) != 1:
        raise SystemExit(f"generate.py: {len(found)} definitions of auth.{name} in {INSTALL_SQL}")
    return found[0].replace("create function auth.", "create or replace function auth.", 1)


def generate(template: Path) -> str:
    sources = {path.name: path.read_text() for path in sorted(INSTALL_SQL.glob("*.sql"))}
    text = template.read_text()
    match = re.search(r"(?m)^-- @functions (.+)\n", text)
    if not match:
        raise SystemExit(f"generate.py: {template.name} has no '-- @functions' line")
    blocks = "\n".join(function_block(name, sources) for name in match.group(1).split())
    return (text[:match.start()] + blocks).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    differs = []
    for template in sorted(HERE.glob("*.sql.in")):
        script = SCRIPTS / f"pg_auth_ext--{template.name.removesuffix('.in')}"
        generated = generate(template)
        if check:
            if not script.exists() or script.read_text() != generated:
                differs.append(script.name)
        else:
            script.write_text(generated)
    if differs:
        print(f"not as generated (run {Path(__file__).name}): {', '.join(differs)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
