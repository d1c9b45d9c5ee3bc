"""Unit tests of the HTML and CSS fixes that the gates (tests/test_gates.py) rely on."""

from __future__ import annotations

from agentkb.a11y import diagram_label, fix_body
from agentkb.assets import subset_css
from agentkb.pagefind import kind_of


def test_the_stylesheet_cut_keeps_rules_for_used_classes_only() -> None:
    css = (
        ":root{--sd-color-success:#28a745}"
        ".sd-badge{display:inline-block}.sd-dropdown{margin:0}"
        ".sd-bg-success,.sd-bg-info{color:red}"
        "@media (min-width:576px){.sd-col-sm-1{width:8%}.sd-badge{padding:0}}"
        "@keyframes sd-spin{from{opacity:0}to{opacity:1}}"
        "/* a comment {with braces} */"
    )
    cut = subset_css(css, {"sd-badge", "sd-bg-success"})
    assert ":root{--sd-color-success:#28a745}" in cut
    assert ".sd-badge{display:inline-block}" in cut
    assert ".sd-dropdown" not in cut
    assert ".sd-bg-success{color:red}" in cut and "sd-bg-info" not in cut
    assert "@media (min-width:576px){.sd-badge{padding:0}}" in cut and "sd-col-sm-1" not in cut
    assert "@keyframes sd-spin" in cut
    assert "comment" not in cut


def test_a_cut_made_again_with_more_classes_gets_their_rules_back() -> None:
    css = ".sd-badge{a:b}.sd-dropdown{c:d}"
    assert subset_css(css, {"sd-badge", "sd-dropdown"}) == css


def test_a_graphviz_diagram_is_named_from_its_alt_text_or_its_labels() -> None:
    assert diagram_label("Request flow through the layers") == "Request flow through the layers"
    dot = 'digraph { a [label="route"]; b [label="service\\nlayer"]; c [label="route"]; a -> b; }'
    assert diagram_label(dot) == "Diagram: route; service layer"
    assert diagram_label("digraph { a -> b }") == "Diagram"


def test_the_body_fixes() -> None:
    body = (
        '<div class="graphviz"><object data="x.svg" type="image/svg+xml" class="graphviz">\n'
        '<p class="warning">digraph { a [label=&quot;A&quot;]; }</p></object></div>'
        '<ul class="contains-task-list"><li class="task-list-item"><p>'
        '<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">Use <em>indexes</em></p></li></ul>'
        '<p class="caption" role="heading"><span class="caption-text">Guides</span></p>'
        '<ul><li><p><strong>200</strong> OK\n<div class="highlight"><pre>{}</pre></div>\n</p></li>'
        "<li><p>plain item</p></li></ul>"
    )
    fixed = fix_body(body)
    assert 'role="img" aria-label="Diagram: A"' in fixed
    assert 'aria-label="To do: Use indexes"' in fixed
    assert '<p class="caption" role="heading" aria-level="2">' in fixed
    assert '<li><div class="kb-item"><strong>200</strong> OK' in fixed
    assert "<li><p>plain item</p></li>" in fixed


def test_every_page_kind_maps_to_a_search_filter() -> None:
    assert kind_of("guides/errors") == "guide"
    assert kind_of("guides/conventions") == "convention"
    assert kind_of("agents/opus-principles") == "agent"
    assert kind_of("api-examples/index") == "API operation"
    assert kind_of("genindex") is None
