"""The site's conventions: the rulebook, the reviewed stances, the matrix and conventions.json.

The mechanism is tested in-process on a tiny site (test_evidence.py); these tests check
the real data and the whole built site.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sitebuild import ROOT, matrix_cells
from sitepages import parsed_page

from agentkb.definitions import definition_files, load_definition
from agentkb.rulebook import SITE_URL, default_rulebook
from agentkb.scoring import load_detection_review, precision, recall
from agentkb.spectral import ruleset
from agentkb.stances import Evidence, check_review, load_review, quote_at, sidecar_path

AGENT_FILES = definition_files(ROOT / "agents" / "definitions")
SLUGS = [p.stem for p in AGENT_FILES]
RULEBOOK = default_rulebook()


def _cell(slug: str, conv_id: str) -> set[str]:
    review = load_review(sidecar_path(ROOT / "agents" / "definitions" / f"{slug}.md"), RULEBOOK)
    return {s.stance for s in review.stances if s.convention == conv_id}


@pytest.mark.parametrize("path", AGENT_FILES, ids=SLUGS)
def test_every_seed_agent_is_reviewed_and_every_quote_is_at_its_line(path: Path) -> None:
    review = load_review(sidecar_path(path), RULEBOOK)
    assert review.date and review.stances
    assert [problem.message for problem in check_review(review, load_definition(path))] == []


@pytest.mark.parametrize(
    ("slug", "conv_id", "stance", "not_stance"),
    [
        # Cells the first version got wrong, as the audit found them.
        ("sonnet-typescript-fastapi", "PAGE-SEARCH-ESCAPED", "contradicts", "states"),
        ("claude-sonnet-4-fastapi-team", "AUTH-JWT-VALIDATE-CLAIMS", "contradicts", "states"),
        ("sonnet-compact-checklist", "ERR-PROBLEM-DETAILS", "contradicts", "states"),
        ("sonnet-node-playbook", "ERR-PROBLEM-DETAILS", "contradicts", "states"),
        ("sonnet-node-playbook", "PWD-BCRYPT-LEGACY-ONLY", "contradicts", "states"),
        ("sonnet-typescript-fastapi", "PWD-BCRYPT-LEGACY-ONLY", "contradicts", "states"),
        ("opus-principles", "ERR-PROBLEM-DETAILS", "mentions", "states"),
        ("sonnet-typescript-fastapi", "API-SNAKE-CASE-FIELDS", "contradicts", "silent"),
        ("sonnet-compact-checklist", "API-SNAKE-CASE-FIELDS", "contradicts", "silent"),
    ],
)
def test_the_audits_corrections_are_in(slug: str, conv_id: str, stance: str, not_stance: str) -> None:
    cell = _cell(slug, conv_id)
    assert stance in cell and not_stance not in cell, cell


def test_the_json_casing_disagreement_is_recorded() -> None:
    contradicting = [slug for slug in SLUGS if "contradicts" in _cell(slug, "API-SNAKE-CASE-FIELDS")]
    assert len(contradicting) >= 2


@pytest.fixture(scope="module")
def document(html: Path) -> dict:
    return json.loads((html / "conventions.json").read_text("utf-8"))


def test_conventions_json_holds_every_convention_and_every_reviewed_stance(document: dict) -> None:
    assert [c["id"] for c in document["conventions"]] == [c.id for c in RULEBOOK]
    published = {
        (s["agent"], c["id"], s["stance"], tuple((e["line"], e["quote"]) for e in s["evidence"]))
        for c in document["conventions"]
        for s in c["stances"]
        if s["source"] == "reviewed"
    }
    reviewed = {
        (path.stem, s.convention, s.stance, tuple((e.line, e.quote) for e in s.evidence))
        for path in AGENT_FILES
        for s in load_review(sidecar_path(path), RULEBOOK).stances
    }
    assert published == reviewed
    for conv in document["conventions"]:
        assert conv["url"] == f"{SITE_URL}{conv['page']}"
        assert [r["id"] for r in conv["rules"]] == [r.full_id for r in RULEBOOK.get(conv["id"]).rules]


def test_every_published_quote_is_at_its_line_and_its_anchor_is_on_the_page(html: Path, document: dict) -> None:
    raw = {slug: (ROOT / "agents" / "definitions" / f"{slug}.md").read_text("utf-8").splitlines() for slug in SLUGS}
    # Each page parsed once and indexed by id: find(id=...) walks the whole page every time.
    pages: dict[str, dict[str, Any]] = {}
    for conv in document["conventions"]:
        for stance in conv["stances"]:
            for evidence in stance["evidence"]:
                assert quote_at(raw[stance["agent"]], Evidence(evidence["line"], evidence["quote"])), evidence
                page, anchor = evidence["page"].split("#")
                if page not in pages:
                    soup = parsed_page(html / page)
                    pages[page] = {str(node["id"]): node for node in soup.find_all(id=True)}
                holder = pages[page].get(anchor)
                assert holder is not None, evidence["page"]
                if holder.name == "div" and holder.select_one("pre"):
                    assert evidence["quote"] in holder.get_text(), evidence


def test_the_matrix_cells_are_the_published_stances(html: Path, document: dict) -> None:
    table = parsed_page(html / "guides/conventions.html").select_one("table.kb-matrix")
    rows = table.select("tbody tr")
    assert [tr.select_one("th[scope=row]").get_text() for tr in rows] == [c["id"] for c in document["conventions"]]
    columns = {slug: matrix_cells(table, slug) for slug in SLUGS}
    for number, conv in enumerate(document["conventions"]):
        for slug in SLUGS:
            shown = sorted(a["class"][1].removeprefix("kb-") for a in columns[slug][number].select("a"))
            expected = sorted(s["stance"] for s in conv["stances"] if s["agent"] == slug)
            assert shown == expected, (conv["id"], slug)
        assert ("data-disputed" in rows[number].attrs) == any(s["stance"] == "contradicts" for s in conv["stances"])
    assert table.find_previous("form", class_="kb-matrix-filters").select("select[data-kb-filter]")


@pytest.mark.parametrize("slug", SLUGS)
def test_every_agent_page_lists_its_stances_with_evidence(html: Path, document: dict, slug: str) -> None:
    page = parsed_page(html / "agents" / f"{slug}.html")
    section = page.find("section", id="conventions")
    listed = [li.select_one("strong").get_text() for li in section.select("ul.kb-agent-stances > li")]
    expected = [c["id"] for c in document["conventions"] if any(s["agent"] == slug for s in c["stances"])]
    assert sorted(listed) == sorted(expected)
    for link in section.select("a.kb-evidence-line"):
        assert page.find(id=link["href"].lstrip("#")), link["href"]


def test_the_spectral_ruleset_is_published_from_the_rulebook(html: Path) -> None:
    published = yaml.safe_load((html / "agentkb.spectral.yaml").read_text("utf-8"))
    assert published == ruleset(RULEBOOK, SITE_URL)


def test_llms_txt_lists_every_convention(html: Path) -> None:
    text = (html / "llms.txt").read_text("utf-8")
    assert "conventions.json" in text
    for conv in RULEBOOK:
        assert f"[{conv.id}]({conv.guide}.html#{conv.anchor}) ({conv.level})" in text


def test_the_example_stance_on_the_conventions_page_is_a_real_one(document: dict) -> None:
    text = (ROOT / "guides" / "conventions.md").read_text("utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    conv = next(c for c in document["conventions"] if c["id"] == "AUTH-SHORT-ACCESS-TOKENS")
    assert example in conv["stances"]


def test_the_accuracy_page_shows_the_measured_precision_and_recall(html: Path, document: dict) -> None:
    page = parsed_page(html / "guides/detection.html")
    precision_table, recall_table = page.select("table.kb-accuracy")
    rows = {
        tr.select("td")[0].get_text(): [td.get_text() for td in tr.select("td")]
        for tr in precision_table.select("tbody tr")
    }
    review = load_detection_review(ROOT / "guides" / "detection-review.toml")
    scores = precision(review, RULEBOOK)
    for kind, score in scores.items():
        assert rows[kind][2:4] == [str(score.total), str(score.hits)]
        # The rulebook's bar: a rule kind below 90% precision is not kept on.
        assert score.ratio is None or score.ratio >= 0.9, kind
    found = recall(s for c in document["conventions"] for s in c["stances"])
    assert [td.get_text() for td in recall_table.select("tbody tr")[-1].select("td")] == [
        "all",
        str(found["all"].total),
        str(found["all"].hits),
        f"{found['all'].ratio:.0%}",
    ]
    # The page's first sentence says "nineteen times in twenty" and "about two thirds".
    measured = [s for s in scores.values() if s.total]
    assert sum(s.hits for s in measured) / sum(s.total for s in measured) >= 0.95
    assert 0.6 <= found["all"].ratio <= 0.72
    assert len(review) >= 40 and len({e["file"] for e in review}) >= 10


def test_the_openapi_rules_are_held_to_the_reviews_as_the_build_holds_the_others(tmp_path: Path) -> None:
    # The build runs the code and text rules; Spectral needs Node.js, which the build does
    # not, so the OpenAPI rules' findings on the reviewed agents are held to the reviews here.
    from agentkb.detect import detect
    from agentkb.spectral import detect_openapi, openapi_documents
    from agentkb.stances import agent_stances

    definitions = [load_definition(path) for path in AGENT_FILES]
    assert sum(len(openapi_documents(d)) for d in definitions) == 1  # typescript-fastapi's "User API"
    openapi = detect_openapi(definitions, RULEBOOK)
    for definition in definitions:
        found = [*detect(definition, RULEBOOK.active_rules), *openapi.get(definition.path, [])]
        assert [p.message for p in agent_stances(definition, RULEBOOK, found).problems] == [], definition.slug

    # The same agent with its page size uncapped: the OpenAPI rule finds the line, and the
    # review (which records that line as following the cap) no longer agrees.
    source = ROOT / "agents" / "definitions" / "sonnet-typescript-fastapi.md"
    changed = tmp_path / source.name
    changed.write_text(source.read_text("utf-8").replace("maximum: 100", "maximum: 1000", 1), "utf-8")
    shutil.copy(sidecar_path(source), sidecar_path(changed))
    definition = load_definition(changed)
    found = detect_openapi([definition], RULEBOOK)[changed]
    assert [(d.rule.convention, d.line, d.quote) for d in found] == [("PAGE-LIMIT-CAP", 142, "1000")]
    problems = agent_stances(definition, RULEBOOK, found).problems
    assert any("PAGE-LIMIT-CAP" in p.message and f"{changed.name}:142" in p.message for p in problems)


CORPUS = ROOT.parent / "shared" / "corpus" / "wshobson-agents"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the public catalogue is not beside the repository")
def test_every_judged_detection_still_occurs_on_the_catalogue() -> None:
    from agentkb.detect import detect
    from agentkb.scoring import stale_entries

    review = load_detection_review(ROOT / "guides" / "detection-review.toml")
    present = set()
    for file in sorted({entry["file"] for entry in review}):
        for found in detect(load_definition(CORPUS / file), RULEBOOK.active_rules):
            present.add((file, found.line, found.rule.full_id))
    assert [f"{e['file']}:{e['line']} {e['rule']}" for e in stale_entries(review, present)] == []
