"""The site's search answers readers' everyday questions: the expected page in the top three.

The questions and their pages are in tests/data/search_questions.toml; bench/search_hit_rate.py
prints the same measure with every miss. The search is the real one, in headless Chromium,
on the built site served over HTTP.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from searchquality import is_hit, load_questions, pagefind_results, pagefind_ui_results
from webgates import ROOT

TARGET = 0.95


def test_the_question_set_is_big_enough_and_points_at_real_pages(html: Path) -> None:
    questions = load_questions()
    assert len(questions) >= 40
    for question in questions:
        for page in question.pages():
            assert (html / page).exists(), (question.q, page)
        if question.anchor:
            assert f'id="{question.anchor}"' in (html / question.page).read_text(encoding="utf-8"), question


def test_search_puts_the_expected_page_in_the_top_three(chromium, base_url: str) -> None:
    questions = load_questions()
    page = chromium.new_page()
    try:
        misses = []
        for question in questions:
            results = pagefind_ui_results(page, base_url, question.q)
            if not is_hit(question, results):
                misses.append((question.q, question.page, results[:3]))
    finally:
        page.close()
    rate = 1 - len(misses) / len(questions)
    assert rate >= TARGET, f"top-3 hit rate {rate:.1%} < {TARGET:.0%}; misses: {misses}"
    published = ROOT / "guides" / "search.md"
    stated = f"**{len(questions) - len(misses)} of {len(questions)}** questions ({rate:.0%})"
    assert stated in published.read_text("utf-8"), f"guides/search.md should say {stated}; misses: {misses}"


@pytest.mark.parametrize(
    ("kind", "query", "expected"),
    [
        ("guide", "N+1", "guides/"),
        ("convention", "N+1", "guides/"),
        ("agent", "N+1", "agents/"),
        ("API operation", "orders", "api-examples/"),
    ],
)
def test_results_can_be_filtered_by_kind(chromium, base_url: str, kind: str, query: str, expected: str) -> None:
    page = chromium.new_page()
    try:
        page.goto(base_url + "search.html")
        results = pagefind_results(page, base_url, query, {"kind": kind})
    finally:
        page.close()
    assert results, f"no {kind} result for {query!r}"
    assert all(r.startswith(expected) for r in results), results
