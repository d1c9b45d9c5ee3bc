"""``conventions.json`` and the Spectral ruleset, published with the site.

:func:`conventions_document` is the one data source for the conventions: every
convention of the rulebook with its rules and, per agent, its stances with evidence and
source. The matrix (:mod:`agentkb.matrix`), ``llms.txt`` and the two files written here
are generated from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

from . import tables
from .evidence import STANCE_MEANINGS, line_anchor, stances_of
from .ingest import catalog
from .rulebook import LEVELS, SITE_URL, Rule
from .spectral import SEVERITIES, rule_name, ruleset
from .state import build_state

CONVENTIONS_JSON = "conventions.json"
SPECTRAL_RULESET = "agentkb.spectral.yaml"
#: RFC 2119 as updated by RFC 8174: the key words mean this only in capitals.
LEVEL_MEANINGS = {
    "MUST": "an absolute requirement (RFC 2119 §1, RFC 8174)",
    "SHOULD": "there may be valid reasons to do otherwise, but the full implications must be understood "
    "and weighed (RFC 2119 §3, RFC 8174)",
    "MAY": "truly optional (RFC 2119 §5, RFC 8174)",
}
assert tuple(LEVEL_MEANINGS) == LEVELS


def base_url(env: BuildEnvironment) -> str:
    return env.config.html_baseurl or env.config.agentkb_site_url


def _page(docname: str, anchor: str = "") -> str:
    return f"{docname}.html" + (f"#{anchor}" if anchor else "")


def _rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rule.full_id, "kind": rule.kind, "stance": rule.stance, "message": rule.message}
    if rule.languages:
        out["languages"] = list(rule.languages)
    out["match"] = rule.match
    if rule.disabled:
        out["disabled"] = rule.disabled
    return out


def conventions_document(env: BuildEnvironment) -> dict[str, Any]:
    """Every convention, its rules, and every agent's stances with evidence (cached per build)."""
    state = build_state(env)
    if state.conventions_document is not None:
        return state.conventions_document
    site = base_url(env).rstrip("/") + "/"
    agents = catalog(env).agents
    stances = {agent.slug: stances_of(env, agent) for agent in agents}
    conventions = []
    for conv in state.rulebook:
        entries = []
        for agent in agents:
            for stance in stances[agent.slug].cell(conv.id):
                entry: dict[str, Any] = {"agent": agent.slug, "stance": stance.stance, "source": stance.source}
                if stance.rule:
                    entry["rule"] = stance.rule
                if stance.note:
                    entry["note"] = stance.note
                entry["evidence"] = [
                    {"line": e.line, "quote": e.quote, "page": _page(agent.docname, line_anchor(e.line))}
                    for e in stance.evidence
                ]
                entries.append(entry)
        dismissed = [
            {"agent": agent.slug, "rule": d.rule, "line": d.line, "why": d.why}
            for agent in agents
            for d in stances[agent.slug].dismissed
            if d.convention == conv.id
        ]
        topic = env.titles[conv.guide].astext() if conv.guide in env.titles else conv.guide
        record: dict[str, Any] = {
            "id": conv.id,
            "title": conv.title,
            "level": conv.level,
            "topic": topic,
            "page": _page(conv.guide, conv.anchor),
            "url": conv.permalink(site),
            "checked_by": conv.checked_by,
            "rules": [_rule(r) for r in conv.rules],
            "stances": entries,
        }
        if conv.id in state.service_tests:
            record["service_test"] = state.service_tests[conv.id]
        if dismissed:
            record["dismissed"] = dismissed
        conventions.append(record)
    state.conventions_document = {
        "site": site,
        "levels": LEVEL_MEANINGS,
        "stances": {**STANCE_MEANINGS, "silent": "nothing about it (not listed)"},
        "sources": {
            "reviewed": "a person read the agent file and recorded the stance with its evidence",
            "detected": "a rule of the rulebook matched the agent file; nobody has reviewed it",
        },
        "agents": [
            {
                "slug": a.slug,
                "name": a.definition.name,
                "title": a.title,
                "page": _page(a.docname),
                "reviewed": stances[a.slug].reviewed,
            }
            for a in agents
        ],
        "conventions": conventions,
    }
    return state.conventions_document


def write_published_files(app: Sphinx, outdir: Path) -> None:
    document = conventions_document(app.env)
    (outdir / CONVENTIONS_JSON).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
    spectral = ruleset(build_state(app.env).rulebook, base_url(app.env))
    (outdir / SPECTRAL_RULESET).write_text(yaml.safe_dump(spectral, sort_keys=False, allow_unicode=True), "utf-8")


class SpectralRulesDirective(SphinxDirective):
    """The published ruleset's rules: name, severity and the convention each checks."""

    def run(self) -> list[nodes.Node]:
        rulebook = build_state(self.env).rulebook
        for path in rulebook.files:
            self.env.note_dependency(str(path))
        rows = []
        for conv in rulebook:
            for rule in conv.rules:
                if rule.kind != "openapi" or rule.disabled:
                    continue
                xref = pending_xref(
                    "",
                    refdomain="kb",
                    reftype="conv",
                    reftarget=conv.id,
                    refdoc=self.env.docname,
                    refexplicit=True,
                    refwarn=True,
                )
                xref += nodes.literal("", conv.id)
                rows.append(
                    tables.row([nodes.literal("", rule_name(rule)), SEVERITIES[conv.level], xref, rule.message])
                )
        return [
            tables.table(
                ["Spectral rule", "Severity", "Convention", "What it reports"], rows, classes=["kb-spectral-rules"]
            )
        ]


def _current(outdir: Path, env: BuildEnvironment) -> bool:
    """Whether the published files are those of this build: no page changed, same site URL."""
    if build_state(env).touched_docs or not (outdir / SPECTRAL_RULESET).is_file():
        return False
    try:
        with (outdir / CONVENTIONS_JSON).open(encoding="utf-8") as fh:
            head = fh.readline() + fh.readline()
    except OSError:
        return False
    return head == "{\n" + f' "site": {json.dumps(base_url(env).rstrip("/") + "/", ensure_ascii=False)},\n'


def on_build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html" and not _current(Path(app.outdir), app.env):
        write_published_files(app, Path(app.outdir))


def setup(app: Sphinx) -> None:
    app.add_config_value("agentkb_site_url", SITE_URL, "html", types=[str])
    app.add_directive("spectral-rules", SpectralRulesDirective)
    app.connect("build-finished", on_build_finished)
