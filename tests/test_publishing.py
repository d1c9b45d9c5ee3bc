"""What publishing adds to the built site: absolute addresses from configuration, a
sitemap, link previews, a 404 page, llms-full.txt, and each page's date and edit link."""

from __future__ import annotations

import re
import runpy
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sitebuild import ROOT
from sitepages import parsed_page
from tinybuild import build, copy_tiny

from agentkb.page_source import last_commit_dates
from agentkb.rulebook import SITE_URL

REPOSITORY = "https://github.com/agentkb/agentkb"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("AGENTKB_BASE_URL", "AGENTKB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "conf.py"))


def test_the_base_url_and_repository_default_to_the_published_site(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _conf(monkeypatch)
    assert conf["html_baseurl"] == SITE_URL == "https://agentkb.github.io/agentkb/"
    assert conf["agentkb_repository"] == REPOSITORY
    assert conf["html_theme_options"]["source_repository"] == f"{REPOSITORY}/"
    assert conf["notfound_urls_prefix"] == "/agentkb/"
    assert conf["ogp_site_url"] == SITE_URL


def test_the_base_url_and_repository_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _conf(
        monkeypatch,
        AGENTKB_BASE_URL="https://docs.example.org/kb",
        AGENTKB_REPOSITORY="https://github.com/someone/fork/",
    )
    assert conf["html_baseurl"] == "https://docs.example.org/kb/"
    assert conf["notfound_urls_prefix"] == "/kb/"
    assert conf["html_theme_options"]["source_repository"] == "https://github.com/someone/fork/"
    assert _conf(monkeypatch, AGENTKB_BASE_URL="https://kb.example.org")["notfound_urls_prefix"] == "/"


def test_the_sitemap_lists_every_page_and_nothing_else(html: Path) -> None:
    urls = {loc.text for loc in ET.parse(html / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")}
    pages = {
        p.relative_to(html).as_posix() for p in html.rglob("*.html") if not p.relative_to(html).parts[0].startswith("_")
    } - {"404.html", "search.html", "genindex.html", "http-routingtable.html"}
    assert urls == {SITE_URL + page for page in pages}


def test_every_page_has_a_link_preview_with_the_social_card(html: Path) -> None:
    for page in ("index.html", "guides/passwords.html", "agents/opus-principles.html"):
        meta = {m["property"]: m["content"] for m in parsed_page(html / page).find_all("meta", property=True)}
        assert meta["og:url"] == SITE_URL + page
        assert meta["og:image"] == SITE_URL + "_static/social-card.png"
        assert meta["og:title"] and meta["og:description"] and meta["og:image:alt"]
    assert (html / "_static" / "social-card.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_404_page_links_work_from_any_depth(html: Path) -> None:
    soup = parsed_page(html / "404.html")
    assert "Page not found" in soup.get_text()
    links = [a["href"] for a in soup.find_all("a", href=True) if not a["href"].startswith(("#", "http"))]
    links += [link["href"] for link in soup.find_all("link", href=True) if not link["href"].startswith("http")]
    assert links and all(href.startswith("/agentkb/") for href in links), links
    body = {a["href"] for a in soup.find("article").find_all("a", href=True)}
    assert {"/agentkb/index.html", "/agentkb/agents/index.html", "/agentkb/guides/index.html"} <= body


def test_llms_full_txt_holds_the_text_of_every_page_in_the_order_of_llms_txt(html: Path) -> None:
    full = (html / "llms-full.txt").read_text("utf-8")
    index = (html / "llms.txt").read_text("utf-8")
    # Pages, in order; llms.txt also links conventions (page#anchor) and conventions.json.
    listed = list(dict.fromkeys(link for link in re.findall(r"\]\(([^)]+)\)", index) if link.endswith(".html")))
    shown = re.findall(r"^URL: (.+)$", full, re.M)
    assert shown == ["index.html", *listed]
    # Prose from a guide, an agent's raw body and a generated table all appear in full.
    passwords = parsed_page(html / "guides/passwords.html").find("article").find("p").get_text()
    assert " ".join(passwords.split()) in " ".join(full.split())
    raw = (ROOT / "agents/definitions/opus-principles.md").read_text("utf-8")
    assert "You are an elite Backend Development Engineer" in raw
    assert "You are an elite Backend Development Engineer" in full
    # Text the HTML hides stays out: a card's stretched link would repeat its title.
    overview = full.split("URL: agents/index.html", 1)[1].split("\nURL: ", 1)[0]
    for card in parsed_page(html / "agents/index.html").select(".kb-overview-card .sd-card-title"):
        title = " ".join(card.get_text().split())
        assert f"\n{title}\n" in overview and not re.search(re.escape(title) + r"\w", overview), title


def _git(cwd: Path, *args: str, date: str = "") -> None:
    env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={**env, "PATH": "/usr/bin:/bin"},
    )


def test_page_dates_are_the_last_commit_touching_each_file(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.md").write_text("a\n")
    (tmp_path / "b.md").write_text("b\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "one", date="2024-01-02T00:00:00Z")
    (tmp_path / "b.md").write_text("b, changed\n")
    _git(tmp_path, "commit", "-qam", "two", date="2025-03-04T00:00:00Z")
    (tmp_path / "c.md").write_text("not committed\n")
    assert last_commit_dates(tmp_path) == {"a.md": 1704153600, "b.md": 1741046400}


def test_no_dates_outside_a_git_checkout(tmp_path: Path) -> None:
    assert last_commit_dates(tmp_path) == {}


def test_pages_show_the_date_of_their_source_and_agent_pages_edit_the_raw_file(html: Path) -> None:
    dates = last_commit_dates(ROOT)
    if "agents/definitions/opus-principles.md" not in dates:
        pytest.skip("not a git checkout with history")
    agent = parsed_page(html / "agents/opus-principles.html")
    assert re.search(r"Last updated on \d{1,2} \w+ \d{4}", agent.select_one(".last-updated").get_text())
    edit = agent.find("a", rel="edit")["href"]
    view = agent.find("a", title="View this page")["href"]
    assert edit == f"{REPOSITORY}/edit/main/agents/definitions/opus-principles.md"
    assert view == f"{REPOSITORY}/blob/main/agents/definitions/opus-principles.md?plain=true"
    guide = parsed_page(html / "guides/passwords.html")
    assert guide.find("a", rel="edit")["href"] == f"{REPOSITORY}/edit/main/guides/passwords.md"
    assert guide.select_one(".last-updated")


def test_a_build_outside_a_git_checkout_shows_no_date(tmp_path: Path) -> None:
    outside = build(copy_tiny(tmp_path / "outside"), html_theme="furo")
    assert outside.warnings == ""
    inside = copy_tiny(tmp_path / "inside")
    _git(inside, "init", "-q")
    _git(inside, "add", ".")
    _git(inside, "commit", "-qm", "one", date="2024-01-02T00:00:00Z")
    committed = build(inside, html_theme="furo")
    for page in ("index", "guides/time", "agents/reviewed-agent"):
        assert outside.page(page).select_one(".last-updated") is None, page
        assert "2 January 2024" in committed.page(page).select_one(".last-updated").get_text(), page


def test_every_edit_link_points_to_a_file_of_the_repository(html: Path) -> None:
    prefix = f"{REPOSITORY}/edit/main/"
    checked = 0
    for page in html.rglob("*.html"):
        link = parsed_page(page).find("a", rel="edit")
        if link is None:
            continue
        assert link["href"].startswith(prefix), (page, link["href"])
        target = ROOT / link["href"].removeprefix(prefix)
        assert target.is_file() and not target.read_text("utf-8").startswith("<!-- agentkb: generated"), page
        checked += 1
    assert checked > 20
