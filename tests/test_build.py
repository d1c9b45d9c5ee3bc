import re
import runpy
from pathlib import Path

from sitebuild import Build, copy_site
from sphinx.project import Project
from tinybuild import TinyBuild, build, copy_tiny


def test_the_site_builds_strictly_with_no_warning(site: Build) -> None:
    assert site.warnings == []
    assert site.returncode == 0, site.output


def test_every_page_of_the_site_is_written(html: Path) -> None:
    for page in ("index.html", "agents/index.html", "guides/index.html", "api-examples/index.html"):
        assert (html / page).is_file(), page


def _build_with_page(tmp_path: Path, text: str) -> TinyBuild:
    src = copy_tiny(tmp_path / "src")
    (src / "guides" / "broken.md").write_text(text, "utf-8")
    return build(src)


def test_a_broken_cross_reference_fails_the_build_naming_file_and_line(tmp_path: Path) -> None:
    result = _build_with_page(tmp_path, "# Broken\n\nSee {doc}`no-such-page`.\n")
    assert any("guides/broken.md:3" in w and "no-such-page" in w for w in result.warnings.splitlines()), result.warnings


def test_an_unknown_directive_fails_the_build_naming_file_and_line(tmp_path: Path) -> None:
    result = _build_with_page(tmp_path, "# Broken\n\ntext\n\n```{no-such-directive}\n```\n")
    assert any("guides/broken.md:5" in w and "no-such-directive" in w for w in result.warnings.splitlines()), (
        result.warnings
    )


def test_markdown_in_caches_and_hidden_folders_is_not_part_of_the_site(tmp_path: Path) -> None:
    """conf.py's include and exclude patterns, applied as Sphinx finds documents (no build needed)."""
    src = copy_site(tmp_path / "src")
    for stray in (".pytest_cache/README.md", "guides/.cache/notes.md", "tests/README.md"):
        (src / stray).parent.mkdir(parents=True, exist_ok=True)
        (src / stray).write_text("# Not a page\n", "utf-8")
    conf = runpy.run_path(str(src / "conf.py"))
    docnames = Project(src, conf["source_suffix"]).discover(conf["exclude_patterns"], conf["include_patterns"])
    assert docnames and "index" in docnames and "guides/index" in docnames
    assert not {d for d in docnames if d.startswith((".pytest_cache", "tests/")) or "/." in d}, docnames


def test_llms_txt_links_every_page_of_the_site(html: Path) -> None:
    text = (html / "llms.txt").read_text("utf-8")
    pages = {
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if p.parent != html and not p.relative_to(html).parts[0].startswith("_")
    }
    # Besides the pages, llms.txt links each convention (page#anchor) and conventions.json.
    links = set(re.findall(r"\]\(([^)]+)\)", text))
    assert pages == {link for link in links if "#" not in link and link.endswith(".html")}
    assert all(link.partition("#")[0] in pages for link in links if "#" in link)
