"""The README and the documents it links (docs/, SECURITY.md,
CONTRIBUTING.md) show what the code does: files they quote are those files,
and their tables name every setting, configuration key, error slug and path."""

import re

import pytest

import stack as stack_controller

ROOT = stack_controller.ROOT
README = (ROOT / "README.md").read_text()
DOCUMENTS = [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS = "\n".join(path.read_text() for path in DOCUMENTS)


def quoted_files():
    """(path, block) for each `<!-- file: PATH -->` followed by a fenced block."""
    return re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```\n", DOCS, re.DOTALL)


def test_the_quoted_files_are_quoted_exactly():
    quoted = quoted_files()
    assert {path for path, _ in quoted} >= {"stack/caddy/Caddyfile", "js/examples/node-server.mjs"}
    for path, block in quoted:
        assert block == (ROOT / path).read_text(), f"the docs' copy of {path} differs from the file"


def test_every_extension_setting_is_documented():
    settings = set(re.findall(r'c"(pg_auth\.\w+)"', (ROOT / "pg_auth_ext" / "src" / "settings" / "mod.rs").read_text()))
    assert len(settings) >= 30
    assert len(settings) >= 14
    for setting in settings:
        assert f"`{setting}`" in DOCS, setting


def test_every_filter_configuration_key_is_documented():
    source = (ROOT / "proxy_filter" / "src" / "config" / "mod.rs").read_text()
    struct = source[source.index("struct FilterConfig {"):source.index("\n}\n", source.index("struct FilterConfig {"))]
    keys = re.findall(r"^    (\w+): ", struct, re.MULTILINE)
    assert len(keys) >= 15
    for key in keys:
        assert f"`{key}`" in DOCS, key


def test_every_error_slug_is_documented():
    core = ROOT / "jwt_core" / "src"
    problems = (core / "problem.rs").read_text()
    slugs = re.findall(r'Problem::\w+ => "(\w+)",', problems[problems.index("fn slug"):problems.index("fn from_slug")])
    errors = (core / "error.rs").read_text()
    reasons = re.findall(r'VerifyError::\w+ => "(\w+)",', errors[errors.index("fn reason"):])
    assert len(slugs) >= 11 and len(reasons) == 13
    for slug in slugs + reasons:
        assert f"`{slug}`" in DOCS, slug


@pytest.mark.parametrize("path", re.findall(r"^\| `([\w./-]+/)` \|", README, re.MULTILINE))
def test_the_layout_table_names_real_folders(path):
    assert (ROOT / path).is_dir(), path


def test_the_layout_table_covers_the_top_level():
    documented = set(re.findall(r"^\| `([\w.-]+)/` \|", README, re.MULTILINE))
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "target"}
    assert folders == documented


def test_the_architecture_map_names_real_files():
    """docs/architecture.md names the file of each hop: each must exist (a
    path from the top, or the end of one)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = {name for name in re.findall(r"`([\w./-]+)`", text)
             if "/" in name or re.search(r"\.(rs|sql|py|sh|conf|js|md)$", name)}
    named -= {"../shared/seed"}
    files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
             if ".git" not in p.parts and "target" not in p.parts and ".stack" not in p.parts]
    assert len(named) >= 30, sorted(named)
    missing = [name for name in named
               if not any(f == name.rstrip("/") or f.endswith("/" + name.rstrip("/")) for f in files)]
    assert not missing, missing


def test_the_readme_stays_short_and_every_link_resolves():
    """A README of the two commands, the flow and links (at most 200 lines);
    every relative link in the documents names a file, and its #anchor a
    heading there."""
    assert README.count("\n") <= 200
    def anchors(path):
        return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
                for h in re.findall(r"(?m)^#+ (.*)$", path.read_text())}
    checked = 0
    for document in DOCUMENTS:
        for target in re.findall(r"\]\((?!https?:)([^)\s]+)\)", document.read_text()):
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            assert linked.exists(), (document.name, target)
            if anchor:
                assert anchor in anchors(linked), (document.name, target)
            checked += 1
    assert checked >= 40, checked
