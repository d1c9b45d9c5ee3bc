"""The pages of ``agentkb check``'s rules, generated from the rule table and the data file.

``{checker-rules}`` lists every rule with its level and summary; ``{checker-rule} ID``
opens a rule's page with its level, its summary and what the data file says about
it (accepted values, the documentation it comes from, where Claude Code behaves
otherwise). A page adds only prose, so a rule's facts are written once, in
``validation.RULES`` and ``claude_code_spec.toml``; SARIF's ``helpUri`` links here.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from .tables import row, table
from .validation import RULES, SPEC

Facts = list[tuple[str, list[str]]]


def rule_facts(rule_id: str) -> Facts:
    """What the data file says about the values a rule checks, as labelled lists."""
    fields, name, tools, models = SPEC["fields"], SPEC["name"], SPEC["tools"], SPEC["models"]
    required: Facts = [("Required fields", fields["required"])]
    facts: dict[str, Facts] = {
        "missing-field": required,
        "empty-field": required,
        "wrong-type": required,
        "invalid-name": [
            ("Characters Claude Code refuses", name["rejected-characters"]),
            ("First character it refuses", [name["rejected-prefix"]]),
            ("Longest name it takes", [str(name["max-length"])]),
        ],
        "name-style": [("Documented form (a regular expression)", [name["documented"]])],
        "unknown-field": [("Fields Claude Code knows", list(fields["kinds"]))],
        "invalid-value": [
            *((f"{field} takes", choices) for field, choices in fields["choices"].items()),
            ("color takes a hex colour or", SPEC["colours"]["names"]),
        ],
        "unknown-tool": [
            ("Claude Code's tools", tools["builtin"]),
            ("Former names it still matches", [f"{old} ({new})" for old, new in tools["aliases"].items()]),
            ("Retired names it ignores", list(tools["retired"])),
        ],
        "unknown-model": [
            ("Aliases", models["aliases"]),
            (f"Families a model ID ({models['id-prefix']}...) can name", models["families"]),
        ],
    }
    return facts.get(rule_id, [])


def behaviour_note(rule_id: str) -> str | None:
    """Where Claude Code's behaviour differs from its documentation, for this rule."""
    section = {
        "invalid-name": "name",
        "name-style": "name",
        "unknown-tool": "tools",
        "unknown-model": "models",
    }.get(rule_id)
    return SPEC[section]["behaviour"] if section else None


def _literals(values: list[str]) -> list[nodes.Node]:
    parts: list[nodes.Node] = []
    for position, value in enumerate(values):
        if position:
            parts.append(nodes.Text(", "))
        parts.append(nodes.literal(text=value))
    return parts


class CheckerRules(SphinxDirective):
    """A table of every rule, each linked to its page."""

    def run(self) -> list[nodes.Node]:
        rows = []
        for rule in RULES.values():
            link = addnodes.pending_xref(
                "",
                nodes.literal(text=rule.id),
                refdomain="std",
                reftype="doc",
                reftarget=f"/agents/checker/{rule.id}",
                refexplicit=True,
                refwarn=True,
                refdoc=self.env.docname,
            )
            rows.append(row([link, rule.severity, rule.summary]))
        return [table(["Rule", "Level", "What it finds"], rows, classes=["kb-checker-rules"])]


class CheckerRule(SphinxDirective):
    """The head of one rule's page: level, summary, the data behind it, its source."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        rule_id = self.arguments[0]
        rule = RULES.get(rule_id)
        if rule is None:
            raise self.error(f"unknown checker rule {rule_id!r}; the rules are {', '.join(RULES)}")
        summary = nodes.paragraph()
        summary += [nodes.strong(text=rule.severity.title()), nodes.Text(f": {rule.summary}.")]
        result: list[nodes.Node] = [summary]
        facts = rule_facts(rule_id)
        if facts:
            items = nodes.bullet_list()
            for label, values in facts:
                item = nodes.paragraph("", "", nodes.Text(f"{label}: "), *_literals(values))
                items += nodes.list_item("", item)
            result.append(items)
        note = behaviour_note(rule_id)
        if note:
            result.append(nodes.paragraph("", "", nodes.strong(text="Claude Code itself: "), nodes.Text(note)))
        source = SPEC["source"]
        cite = nodes.paragraph("", "", nodes.Text("Source: "))
        cite += nodes.reference("", source["url"], refuri=source["url"])
        cite += nodes.Text(f", checked {source['checked']:%Y-%m-%d} ({source['how']}).")
        result.append(cite)
        return result


def setup(app: Sphinx) -> None:
    app.add_directive("checker-rules", CheckerRules)
    app.add_directive("checker-rule", CheckerRule)
