"""The OpenAPI document an agent embeds, taken from its file at build time.

``agent-openapi-report`` (MyST) says where the document is, whether it validates,
and how its endpoints compare with the reference service's spec.
``agent-openapi`` (inside ``{eval-rst}``) renders it with sphinxcontrib-openapi.
A ``$ref`` to a schema the document never defines is shown as such, so the rest
can still be rendered.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from .cards import inline_code, table_cell
from .facts import CodeSample
from .ingest import Agent, catalog

MISSING = "This schema is referenced but never defined in the agent's document."


@dataclass(frozen=True)
class AgentSpec:
    agent: Agent
    sample: CodeSample
    document: dict[str, Any]

    @property
    def line(self) -> int:
        return self.agent.definition.body_start_line + self.sample.line - 1

    def validation_error(self) -> str | None:
        # Imported here: the validator and the renderer below take a third of a second to
        # import, which every build (even one that reads no page) would otherwise pay.
        from openapi_spec_validator import validate

        try:
            validate(copy.deepcopy(self.document))
        except Exception as exc:  # the validator raises several unrelated types
            # The first line names the problem; the rest repeats the whole document.
            return str(exc).splitlines()[0].split(" within {", 1)[0]
        return None

    def missing_refs(self) -> list[str]:
        schemas = self.document.get("components", {}).get("schemas", {})
        return sorted(
            ref
            for ref in _refs(self.document)
            if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in schemas
        )

    def renderable(self) -> dict[str, Any]:
        """The document with each dangling ``$ref`` replaced by a note saying so."""
        missing = set(self.missing_refs())

        def patch(value: Any) -> Any:
            if isinstance(value, dict):
                if value.get("$ref") in missing:
                    return {"type": "object", "description": f"{value['$ref']}: {MISSING}"}
                return {k: patch(v) for k, v in value.items()}
            if isinstance(value, list):
                return [patch(v) for v in value]
            return value

        return patch(self.document)


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def find_spec(agent: Agent) -> AgentSpec | None:
    for sample in agent.facts.samples:
        if sample.language not in ("yaml", "yml", "json"):
            continue
        try:
            document = yaml.safe_load(sample.code)
        except yaml.YAMLError:
            continue
        if isinstance(document, dict) and "openapi" in document:
            return AgentSpec(agent, sample, document)
    return None


class _SpecDirective(SphinxDirective):
    required_arguments = 1

    def spec(self) -> AgentSpec:
        agent = catalog(self.env).by_slug(self.arguments[0])
        if agent is None:
            raise self.error(f"no agent definition with the slug {self.arguments[0]!r}")
        found = find_spec(agent)
        if found is None:
            raise self.error(f"{agent.definition.path.name} embeds no OpenAPI document")
        self.env.note_dependency(str(agent.definition.path))
        return found


def _json_examples_only(document: dict[str, Any]) -> dict[str, Any]:
    """The renderer prints every request example as a JSON body; keep the JSON ones."""
    document = copy.deepcopy(document)
    for item in document.get("paths", {}).values():
        for op in item.values():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            for media_type, body in content.items():
                if "json" not in media_type:
                    body.pop("example", None)
                    body.pop("examples", None)
    return document


def render_openapi(
    directive: SphinxDirective, document: dict[str, Any], source: str, line: int, *, index: bool
) -> list[nodes.Node]:
    """sphinxcontrib-openapi's httpdomain rendering of a document held in memory."""
    from sphinxcontrib.openapi.renderers import HttpdomainRenderer

    renderer = HttpdomainRenderer(directive.state, {"examples": True})
    lines: StringList = StringList()
    for text in renderer.render_restructuredtext_markup(_json_examples_only(document)):
        lines.append(text, source, line)
        if text.startswith(".. http:") and not index:
            lines.append("   :noindex:", source, line)
    container = nodes.section()
    container.document = directive.state.document
    nested_parse_with_titles(directive.state, lines, container)
    return container.children


class AgentOpenApiDirective(_SpecDirective):
    """Render the agent's document; its operations are not indexed, the service's are."""

    def run(self) -> list[nodes.Node]:
        spec = self.spec()
        return render_openapi(self, spec.renderable(), str(spec.agent.definition.path), spec.line, index=False)


class ServiceOpenApiDirective(SphinxDirective):
    """The operations of one tag of an OpenAPI file (the new renderer cannot group)."""

    required_arguments = 1
    option_spec = {"tag": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        relpath, abspath = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relpath)
        document = json.loads(Path(abspath).read_text("utf-8"))
        tag = self.options["tag"]
        paths = {}
        for path, item in document["paths"].items():
            ops = {m: op for m, op in item.items() if tag in op.get("tags", [])}
            if ops:
                paths[path] = ops
        if not paths:
            raise self.error(f"{relpath} has no operation tagged {tag!r}")
        rendered = render_openapi(self, {**document, "paths": paths}, abspath, 1, index=True)
        # tests/service/test_openapi_examples.py sends every request example shown here and
        # compares the answer with the success example shown; the badge says so.
        for container in rendered:
            for block in container.findall(nodes.literal_block):
                block["kb_replayed"] = True
        return rendered


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    methods = {"get", "put", "post", "patch", "delete"}
    return {
        (method.upper(), path): op
        for path, item in document.get("paths", {}).items()
        for method, op in item.items()
        if method in methods
    }


def _params(op: dict[str, Any]) -> dict[str, str]:
    out = {}
    for param in op.get("parameters", []):
        schema = param.get("schema", {})
        bounds = [f"{k}={schema[k]}" for k in ("default", "minimum", "maximum") if k in schema]
        if "enum" in schema:
            bounds.append("one of " + "/".join(map(str, schema["enum"])))
        out[param["name"]] = ", ".join(bounds) or schema.get("type", "accepted")
    return out


def comparison_markdown(spec: AgentSpec, service: dict[str, Any]) -> str:
    ours = _operations(service)
    rows = ["| Operation | The agent's document | The reference service |", "|---|---|---|"]
    for key, op in sorted(_operations(spec.document).items()):
        theirs = ours.get(key)
        rows.append(
            f"| `{key[0]} {key[1]}` | {table_cell(op.get('summary', ''))} | "
            + (table_cell(theirs.get("summary", "")) if theirs else "not provided")
            + " |"
        )
        agent_params, service_params = _params(op), _params(theirs or {})
        for name in sorted(agent_params.keys() | service_params.keys()):
            rows.append(
                f"| ↳ query `{name}` | {table_cell(agent_params.get(name, 'absent'))} | "
                f"{table_cell(service_params.get(name, 'absent'))} |"
            )
        codes = sorted(op.get("responses", {}))
        service_codes = sorted((theirs or {}).get("responses", {}))
        rows.append(f"| ↳ responses | {', '.join(codes)} | {', '.join(service_codes) or '–'} |")
    return "\n".join(rows) + "\n"


class AgentOpenApiReportDirective(_SpecDirective):
    """Where the document comes from, whether it is valid, and how it compares."""

    option_spec = {"compare-with": str}

    def run(self) -> list[nodes.Node]:
        spec = self.spec()
        error = spec.validation_error()
        anchor = next((s.anchor for s in reversed(spec.agent.sections) if s.line <= spec.line), "")
        lines = [
            f"Extracted from {{kb:agent}}`{spec.agent.slug}#{anchor}`, "
            f"line {spec.line} of {inline_code(spec.agent.definition.path.name)}.",
            "",
        ]
        if error:
            lines += [
                ":::{admonition} The document does not validate",
                ":class: warning",
                f"openapi-spec-validator says: {inline_code(error)}",
                ":::",
                "",
            ]
        else:
            lines += ["It validates with openapi-spec-validator.", ""]
        for ref in spec.missing_refs():
            lines += [f"- {inline_code(ref)} is referenced but never defined: shown below as a note.", ""]
        if "compare-with" in self.options:
            relpath, abspath = self.env.relfn2path(self.options["compare-with"])
            self.env.note_dependency(relpath)
            service = json.loads(Path(abspath).read_text("utf-8"))
            lines += [comparison_markdown(spec, service)]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.env.docname), 0, container)
        return container.children


def setup(app: Sphinx) -> None:
    app.add_directive("agent-openapi", AgentOpenApiDirective)
    app.add_directive("agent-openapi-report", AgentOpenApiReportDirective)
    app.add_directive("service-openapi", ServiceOpenApiDirective)
