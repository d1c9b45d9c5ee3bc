"""Detect an agent's stance on the conventions by running the rulebook's rules over its file.

Two kinds of rules run here, in pure Python:

* ``code`` rules are ast-grep rule objects (``pattern``, ``kind``, ``has``, ``not``,
  ``inside``, ``all``, ``any``, ``regex``, ``stopBy``...) run with ast-grep-py over the
  fenced samples whose fence names Python, JavaScript or TypeScript;
* ``text`` rules are regular expressions run over the prose lines of the body (every line
  outside fenced and indented code), case-insensitively::

      match: {pattern: REGEX, near: REGEX, within: 2, unless: REGEX, fences: [toml]}

  ``pattern`` is what is quoted; ``near`` (optional) must also match within ``within``
  lines (default 0, the same line); ``unless`` (optional) vetoes the match when it is
  found in that same window. With ``fences`` (optional) the rule reads the lines of the
  fences in those languages (``toml``, ``json``, ``ini``...; ``''`` for fences that name
  none) instead of the prose, for configuration files and route listings that no code
  rule parses.

``openapi`` rules are Spectral rule bodies; they run through the Spectral CLI
(:mod:`agentkb.spectral`), since one process serves many documents.

Each match becomes a :class:`Detection`: the rule (so its convention and the stance it is
evidence of), the line in the raw file and the matched text, an exact substring of that
line. Where one convention has a stronger stance (states, shows, contradicts) on a line,
a ``mentions`` detection of it on the same line is dropped: the line does more than name
the topic.

This module does not depend on Sphinx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ast_grep_py import SgRoot
from markdown_it import MarkdownIt

from .definitions import AgentDefinition
from .rulebook import CODE_LANGUAGES, Rule, Rulebook, RulebookError

#: Fence languages whose samples the code rules read, and the language each counts as.
FENCE_LANGUAGES = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "javascript": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "tsx": "typescript",
}
#: The tree-sitter grammar a fence is parsed with, where it differs from its language.
_GRAMMARS = {"tsx": "tsx"}
#: Keys an ast-grep rule object may have at its top level (plus the Config form's keys).
_AST_GREP_KEYS = frozenset(
    {
        "pattern",
        "kind",
        "regex",
        "nthChild",
        "range",
        "inside",
        "has",
        "precedes",
        "follows",
        "all",
        "any",
        "not",
        "matches",
    }
)
_CONFIG_KEYS = frozenset({"rule", "constraints", "utils", "transform"})
_TEXT_KEYS = frozenset({"pattern", "near", "within", "unless", "fences"})
_STRONGER = ("states", "shows", "contradicts")

#: Block structure is all detection needs (where fences are), so inline parsing is off.
_md = MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)


@dataclass(frozen=True)
class Detection:
    """One match of one rule: evidence that the agent takes ``rule.stance`` on a convention."""

    rule: Rule
    line: int  # 1-based line in the raw file
    quote: str  # exact substring of that raw line: the matched text (first line, stripped)

    @property
    def convention(self) -> str:
        return self.rule.convention

    @property
    def stance(self) -> str:
        return self.rule.stance

    def __hash__(self) -> int:
        return hash((self.rule.full_id, self.line, self.quote))

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.line, self.rule.convention, self.rule.id, self.quote)


@dataclass(frozen=True)
class _Sample:
    language: str  # python | javascript | typescript
    grammar: str  # the ast-grep language name
    code: str
    first_line: int  # 1-based body line of the sample's first code line


@dataclass(frozen=True)
class _Body:
    lines: list[str]
    prose: list[int]  # 0-based indexes of the prose lines
    samples: list[_Sample]
    fenced: dict[str, list[int]]  # fence language (lower case) -> 0-based indexes of its code lines
    _joined: dict[tuple[str, ...], str] = field(default_factory=dict, repr=False)

    def lines_for(self, matcher: _TextMatcher) -> list[int]:
        if not matcher.fences:
            return self.prose
        return sorted(index for language in matcher.fences for index in self.fenced.get(language, ()))

    def text_for(self, matcher: _TextMatcher) -> str:
        """The lines a matcher reads, joined: one search rules out a whole file at C speed."""
        key = matcher.fences
        if key not in self._joined:
            self._joined[key] = "\n".join(self.lines[index] for index in self.lines_for(matcher))
        return self._joined[key]


@dataclass(frozen=True)
class _TextMatcher:
    pattern: re.Pattern[str]
    near: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    within: int
    fences: tuple[str, ...] = ()  # read these fences' lines instead of the prose


# ---------------------------------------------------------------------------------------------
# Compiling and validating rules


def _trim(message: str) -> str:
    """ast-grep's errors carry a Rust backtrace; keep the part that explains the problem."""
    head = message.split("Stack backtrace:")[0]
    return " ".join(part.strip() for part in head.strip().splitlines() if part.strip())


def _regex(rule: Rule, key: str, value: Any) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise ValueError(f"match.{key} must be a non-empty regular expression")
    try:
        return re.compile(value, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise ValueError(f"match.{key} is not a valid regular expression: {exc}") from None


_text_cache: dict[int, tuple[Rule, _TextMatcher]] = {}


def _text_matcher(rule: Rule) -> _TextMatcher:
    cached = _text_cache.get(id(rule))
    if cached is not None and cached[0] is rule:
        return cached[1]
    match = rule.match
    unknown = set(match) - _TEXT_KEYS
    if unknown:
        raise ValueError(f"a text rule's match has pattern, near, within and unless, not {', '.join(sorted(unknown))}")
    within = match.get("within", 0)
    if not isinstance(within, int) or isinstance(within, bool) or within < 0:
        raise ValueError("match.within must be a whole number of lines (0 = the same line)")
    fences = match.get("fences", [])
    if "fences" in match and (
        not isinstance(fences, list) or not fences or not all(isinstance(name, str) for name in fences)
    ):
        raise ValueError("match.fences is a list of fence languages, such as [toml] ('' for fences without one)")
    matcher = _TextMatcher(
        pattern=_regex(rule, "pattern", match.get("pattern")),
        near=_regex(rule, "near", match["near"]) if "near" in match else None,
        unless=_regex(rule, "unless", match["unless"]) if "unless" in match else None,
        within=within,
        fences=tuple(name.lower() for name in fences),
    )
    _text_cache[id(rule)] = (rule, matcher)
    return matcher


def _find_all(root: Any, match: dict[str, Any]) -> list[Any]:
    if "rule" in match:
        return root.find_all(match)
    return root.find_all(**match)


def _check_code_rule(rule: Rule) -> None:
    keys = set(rule.match)
    if "rule" in keys:
        if keys - _CONFIG_KEYS:
            raise ValueError(f"a match with 'rule' may only add {', '.join(sorted(_CONFIG_KEYS - {'rule'}))}")
    elif keys - _AST_GREP_KEYS:
        raise ValueError(f"unknown ast-grep rule keys: {', '.join(sorted(keys - _AST_GREP_KEYS))}")
    for language in rule.languages:
        grammars = [language, "tsx"] if language == "typescript" else [language]
        for grammar in grammars:
            try:
                _find_all(SgRoot("", grammar).root(), rule.match)
            except Exception as exc:  # ast-grep raises RuntimeError or a bare Exception
                raise ValueError(f"ast-grep rejects the match for {language}: {_trim(str(exc))}") from None


def check_rule_definition(rule: Rule) -> None:
    """Raise ValueError when a rule cannot run or cannot be tested (see :func:`validate_rulebook`)."""
    if not rule.fires or not rule.silent:
        raise ValueError("a rule needs examples with at least one 'fires' and one 'silent' sample")
    if not all(isinstance(example, str) and example.strip() for example in (*rule.fires, *rule.silent)):
        raise ValueError("every example is a non-empty string")
    if not rule.message.strip():
        raise ValueError("a rule needs a message")
    if rule.kind == "text":
        _text_matcher(rule)
    elif rule.kind == "code":
        _check_code_rule(rule)
    elif rule.kind == "openapi":
        if rule.stance != "contradicts":
            raise ValueError("an openapi rule becomes a Spectral lint rule, so its stance must be 'contradicts'")
        if "then" not in rule.match or "given" not in rule.match:
            raise ValueError("an openapi rule's match is a Spectral rule body with 'given' and 'then'")


def validate_rulebook(rulebook: Rulebook) -> None:
    """Check every rule of the rulebook (active or not), raising RulebookError at its file:line."""
    for conv in rulebook:
        for rule in conv.rules:
            try:
                check_rule_definition(rule)
            except ValueError as exc:
                raise RulebookError(conv.path, rule.line, f"{conv.id}: rule {rule.id}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Reading a body: prose lines and code samples


def _split_lines(text: str) -> list[str]:
    return [line.rstrip("\r") for line in text.split("\n")]


def _parse_body(body: str) -> _Body:
    lines = _split_lines(body)
    code_lines: set[int] = set()
    samples: list[_Sample] = []
    fenced: dict[str, list[int]] = {}
    for token in _md.parse(body):
        if token.type not in ("fence", "code_block") or not token.map:
            continue
        start, end = token.map
        code_lines.update(range(start, end))
        if token.type != "fence":
            continue
        info = token.info.strip()
        fence_language = info.split()[0].lower() if info else ""
        content = token.content.count("\n")
        fenced.setdefault(fence_language, []).extend(range(start + 1, start + 1 + content))
        language = FENCE_LANGUAGES.get(fence_language)
        if language:
            samples.append(_Sample(language, _GRAMMARS.get(fence_language, language), token.content, start + 2))
    prose = [index for index in range(len(lines)) if index not in code_lines]
    return _Body(lines, prose, samples, fenced)


# ---------------------------------------------------------------------------------------------
# Matching


def _text_matches(matcher: _TextMatcher, body: _Body) -> Iterable[tuple[int, str]]:
    """(0-based line index, quote) of each prose (or fenced) line the matcher accepts."""
    lines = body.lines
    # A match on one line is a match in the joined text, so a miss there rules the file out.
    if not matcher.pattern.search(body.text_for(matcher)):
        return
    prose = body.lines_for(matcher)
    prose_set = set(prose) if (matcher.near or matcher.unless) and matcher.within else None
    for index in prose:
        line = lines[index]
        found = matcher.pattern.search(line)
        if not found or not found.group(0).strip():
            continue
        if matcher.near or matcher.unless:
            if matcher.within and prose_set is not None:
                window = [
                    lines[i]
                    for i in range(max(0, index - matcher.within), min(len(lines), index + matcher.within + 1))
                    if i in prose_set
                ]
            else:
                window = [line]
            if matcher.near and not any(matcher.near.search(text) for text in window):
                continue
            if matcher.unless and any(matcher.unless.search(text) for text in window):
                continue
        yield index, found.group(0).strip()


def _code_matches(rule: Rule, root: Any) -> Iterable[tuple[int, str]]:
    """(0-based line within the sample, quote) of each node the rule matches."""
    for node in _find_all(root, rule.match):
        first = node.text().split("\n", 1)[0].strip()
        if first:
            yield node.range().start.line, first


def _applies(rule: Rule, kind: str) -> bool:
    return rule.kind == kind and not rule.disabled


def _finish(detections: Iterable[Detection]) -> list[Detection]:
    """Sort, keep one detection per rule and line, drop mentions outdone on the same line."""
    unique: dict[tuple[str, int], Detection] = {}
    for detection in sorted(detections, key=Detection.sort_key):
        unique.setdefault((detection.rule.full_id, detection.line), detection)
    stronger = {(d.convention, d.line) for d in unique.values() if d.stance in _STRONGER}
    return [d for d in unique.values() if not (d.stance == "mentions" and (d.convention, d.line) in stronger)]


def _raw_lines(definition: AgentDefinition) -> list[str]:
    return _split_lines(definition.raw.decode("utf-8"))


def _located(rule: Rule, raw_lines: Sequence[str], line: int, quote: str) -> Detection:
    raw = raw_lines[line - 1] if 0 < line <= len(raw_lines) else ""
    if quote not in raw:  # markdown-it rewrote the line (tabs in a list item): quote the line itself
        quote = raw.strip()
    return Detection(rule, line, quote)


def detect(definition: AgentDefinition, rules: Iterable[Rule]) -> list[Detection]:
    """Run the active code and text rules over one agent file; openapi rules are skipped."""
    rules = list(rules)
    text_rules = [rule for rule in rules if _applies(rule, "text")]
    code_rules = [rule for rule in rules if _applies(rule, "code")]
    body = _parse_body(definition.body)
    raw_lines = _raw_lines(definition)
    offset = definition.body_start_line - 1  # body line index + offset + 1 = raw line
    found: list[Detection] = []
    for rule in text_rules:
        for index, quote in _text_matches(_text_matcher(rule), body):
            found.append(_located(rule, raw_lines, index + offset + 1, quote))
    for sample in body.samples:
        wanted = [rule for rule in code_rules if sample.language in rule.languages]
        if not wanted:
            continue
        root = SgRoot(sample.code, sample.grammar).root()
        for rule in wanted:
            for line, quote in _code_matches(rule, root):
                found.append(_located(rule, raw_lines, offset + sample.first_line + line, quote))
    return _finish(found)


def check_rule(rule: Rule, sample: str, language: str | None = None) -> list[tuple[int, str]]:
    """Run one code or text rule on one sample: (1-based line in the sample, quote) per match.

    A code sample is source in ``language`` (default: the rule's first language; a fence
    name such as ``ts`` or ``tsx`` works too); a text sample is Markdown prose, whose
    fenced code the rule does not read (unless the rule names those fences). Disabled rules
    run too, so their examples stay tested.
    """
    if rule.kind == "text":
        body = _parse_body(sample)
        matches = _text_matches(_text_matcher(rule), body)
        return sorted({(index + 1, quote) for index, quote in matches})
    if rule.kind == "code":
        name = (language or rule.languages[0]).lower()
        grammar = _GRAMMARS.get(name, FENCE_LANGUAGES.get(name, name))
        if grammar not in (*CODE_LANGUAGES, "tsx"):
            raise ValueError(f"no code rule reads {language!r} samples")
        root = SgRoot(sample, grammar).root()
        return sorted({(line + 1, quote) for line, quote in _code_matches(rule, root)})
    raise ValueError(f"{rule.full_id} is an {rule.kind} rule: run it with agentkb.spectral")
