"""The conventions the guides set, and the rules that detect an agent's stance on each.

Each YAML file in this folder holds the conventions of one guide (``errors.yaml`` for
``guides/errors.md``): ID, title, level, how a project checks it, and the rules that
detect it in an agent file. A convention's prose lives on its guide page, in a
``{kb:convention} ID`` block; everything a program needs lives here, so that
``agentkb check --conventions`` works from an installed package with no site.

A rule is a mapping::

    - id: python-utcnow          # unique within its convention; its full ID is CONV-ID/python-utcnow
      kind: code                 # code (ast-grep over samples), text (regexes), openapi (Spectral)
      languages: [python]        # code rules: python, javascript, typescript
      stance: contradicts        # what a match is evidence of: states, shows, mentions, contradicts
      message: One sentence a reader sees beside the finding.
      match: {pattern: datetime.utcnow()}
      examples: {fires: [...], silent: [...]}   # both required, both tested
      disabled: "why, with the measured precision"   # optional: the rule does not run

``match`` is, for a code rule, an ast-grep rule object (``pattern``, ``kind``, ``has``,
``not``, ``inside``, ``all``, ``any``, ``regex``...); for a text rule,
``{pattern, near, within, unless, fences}``: ``pattern`` is what is quoted, ``near`` must
also match within ``within`` lines, ``unless`` vetoes the match, and ``fences`` makes the
rule read the lines of fences with those languages (``''``: no language) instead of the
prose; for an openapi rule, a Spectral rule body (``given``, ``then``). See
:mod:`agentkb.detect` and :mod:`agentkb.spectral`, whose ``validate_rulebook`` checks
every rule's syntax and examples.

This module only reads the data and checks its shape; it does not depend on Sphinx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..definitions import LocatedError, load_yaml

FOLDER = Path(__file__).parent
#: Where the published site lives; permalinks in findings and rulesets point there.
#: The site's own build takes ``html_baseurl`` (AGENTKB_BASE_URL) instead.
SITE_URL = "https://agentkb.github.io/agentkb/"
LEVELS = ("MUST", "SHOULD", "MAY")
#: What a rule's match is evidence of. "silent" is the absence of any stance.
STANCES = ("states", "shows", "mentions", "contradicts")
RULE_KINDS = ("code", "text", "openapi")
CODE_LANGUAGES = ("python", "javascript", "typescript")
_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class RulebookError(LocatedError):
    """A convention or rule that cannot be used, with the file and line that says so."""


@dataclass(frozen=True)
class Rule:
    """One mechanical check: a match in an agent file is evidence of ``stance``."""

    convention: str
    id: str  # unique within its convention
    kind: str  # code | text | openapi
    stance: str
    message: str
    #: code: an ast-grep rule object; text: {pattern, near?, within?}; openapi: a Spectral rule body.
    match: dict[str, Any]
    languages: tuple[str, ...] = ()
    #: Samples the rule must fire on, and samples it must stay silent on (tested).
    fires: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()
    #: Why a rule is off (its precision on real agents was too low); off rules never run.
    disabled: str = ""
    line: int = 0  # where the rule is written, for messages

    @property
    def full_id(self) -> str:
        return f"{self.convention}/{self.id}"


@dataclass(frozen=True)
class Convention:
    id: str
    title: str
    level: str
    guide: str  # the guide's docname, e.g. "guides/errors"
    checked_by: str
    rules: tuple[Rule, ...] = ()
    path: Path = field(default=FOLDER, compare=False)
    line: int = 0

    @property
    def anchor(self) -> str:
        return f"conv-{self.id.lower()}"

    def permalink(self, base_url: str = SITE_URL) -> str:
        return f"{base_url.rstrip('/')}/{self.guide}.html#{self.anchor}"


@dataclass(frozen=True)
class Rulebook:
    conventions: dict[str, Convention]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.conventions.values())

    def get(self, conv_id: str) -> Convention | None:
        return self.conventions.get(conv_id)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for conv in self for rule in conv.rules)

    @property
    def active_rules(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if not rule.disabled)

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(sorted({conv.path for conv in self}))


def _lines(node: yaml.Node) -> dict[int, int]:
    """The 1-based line of each item of a YAML sequence."""
    if not isinstance(node, yaml.SequenceNode):
        return {}
    return {index: item.start_mark.line + 1 for index, item in enumerate(node.value)}


def _rule(conv_id: str, raw: Any, path: Path, line: int) -> Rule:
    name = raw.get("id", "?") if isinstance(raw, dict) else "?"

    def fail(message: str) -> RulebookError:
        return RulebookError(path, line, f"{conv_id}: rule {name}: {message}")

    if not isinstance(raw, dict):
        raise fail("a rule is a mapping with id, kind, stance, message and match")
    rule_id = raw.get("id", "")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        raise fail("id must be lowercase words joined by hyphens")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise fail(f"kind must be one of {', '.join(RULE_KINDS)}")
    stance = raw.get("stance")
    if stance not in STANCES:
        raise fail(f"stance must be one of {', '.join(STANCES)}")
    match = raw.get("match")
    if not isinstance(match, dict) or not match:
        raise fail("match must be a non-empty mapping")
    languages = tuple(raw.get("languages", ()))
    if kind == "code" and (not languages or set(languages) - set(CODE_LANGUAGES)):
        raise fail(f"a code rule names its languages, from {', '.join(CODE_LANGUAGES)}")
    examples = raw.get("examples") or {}
    return Rule(
        convention=conv_id,
        id=rule_id,
        kind=kind,
        stance=stance,
        message=str(raw.get("message", "")),
        match=match,
        languages=languages,
        fires=tuple(examples.get("fires", ())),
        silent=tuple(examples.get("silent", ())),
        disabled=str(raw.get("disabled", "")),
        line=line,
    )


def load_file(path: Path) -> list[Convention]:
    text = path.read_text("utf-8")
    try:
        node, data = load_yaml(text)  # read at every build: one libyaml pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RulebookError(path, (mark.line + 1) if mark else 1, f"malformed YAML: {exc.problem}") from None
    data = data or []
    if not isinstance(data, list):
        raise RulebookError(path, 1, "the file must be a list of conventions")
    lines = _lines(node) if node is not None else {}
    guide = f"guides/{path.stem}"
    conventions = []
    for index, raw in enumerate(data):
        line = lines.get(index, 1)
        if not isinstance(raw, dict):
            raise RulebookError(path, line, "a convention is a mapping with id, title and level")
        conv_id = raw.get("id", "")
        if not isinstance(conv_id, str) or not _ID.match(conv_id):
            raise RulebookError(path, line, f"{conv_id!r} is not a convention ID (UPPER-CASE-WORDS)")
        if raw.get("level") not in LEVELS:
            raise RulebookError(path, line, f"{conv_id}: level must be one of {', '.join(LEVELS)}")
        if not raw.get("title"):
            raise RulebookError(path, line, f"{conv_id}: a convention needs a title")
        rule_nodes = (
            next((v for k, v in node.value[index].value if isinstance(k, yaml.ScalarNode) and k.value == "rules"), None)
            if isinstance(node, yaml.SequenceNode)
            else None
        )
        rule_lines = _lines(rule_nodes) if rule_nodes is not None else {}
        rules = tuple(
            _rule(conv_id, rule, path, rule_lines.get(i, line)) for i, rule in enumerate(raw.get("rules") or ())
        )
        ids = [r.id for r in rules]
        if len(ids) != len(set(ids)):
            raise RulebookError(path, line, f"{conv_id}: two rules share an id")
        conventions.append(
            Convention(
                id=conv_id,
                title=str(raw["title"]),
                level=raw["level"],
                guide=guide,
                checked_by=str(raw.get("checked_by", "review")),
                rules=rules,
                path=path,
                line=line,
            )
        )
    return conventions


def load_rulebook(folder: Path = FOLDER) -> Rulebook:
    conventions: dict[str, Convention] = {}
    for path in sorted(folder.glob("*.yaml")):
        for conv in load_file(path):
            if conv.id in conventions:
                other = conventions[conv.id]
                raise RulebookError(path, conv.line, f"{conv.id} is also defined in {other.path.name}:{other.line}")
            conventions[conv.id] = conv
    return Rulebook(conventions)


@cache
def default_rulebook() -> Rulebook:
    """The rulebook that ships with agentkb, read once per process."""
    return load_rulebook()
