"""The ``agentkb`` command line (also ``python -m agentkb``).

Each subcommand is one function decorated with :func:`subcommand`; its docstring is
its help and the decorator's :class:`Arg` list its arguments, so adding a command
touches nothing else.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .definitions import definition_files
from .sarif import sarif_log
from .validation import check_folder, definition_paths

if TYPE_CHECKING:
    from .convention_findings import ConventionFinding

Handler = Callable[[argparse.Namespace], int]


class Arg:
    """The arguments of one :meth:`argparse.ArgumentParser.add_argument` call."""

    def __init__(self, *names: str, **options: Any) -> None:
        self.names = names
        self.options = options


_SUBCOMMANDS: dict[str, tuple[Handler, tuple[Arg, ...]]] = {}


def subcommand(name: str, *arguments: Arg) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _SUBCOMMANDS[name] = (handler, arguments)
        return handler

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentkb", description="Tools for Claude Code agent definition files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (handler, arguments) in _SUBCOMMANDS.items():
        doc = inspect.cleandoc(handler.__doc__ or "")
        command = commands.add_parser(
            name,
            help=doc.partition("\n")[0] or None,
            description=doc or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for argument in arguments:
            command.add_argument(*argument.names, **argument.options)
        command.set_defaults(handler=handler)
    return parser


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@subcommand(
    "check",
    Arg("paths", nargs="+", type=Path, metavar="PATH", help="a definition file or a folder of them"),
    Arg(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="output format (default: text); sarif is SARIF 2.1.0, for code scanning",
    ),
    Arg("--strict", action="store_true", help="exit with status 1 on warnings too"),
    Arg(
        "--conventions",
        action="store_true",
        help="also report what the rulebook's rules find about the site's conventions (needs agentkb[conventions])",
    ),
    Arg(
        "--skills-dir",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="an extra folder of skills to search; repeatable",
    ),
)
def check(args: argparse.Namespace) -> int:
    """Lint Claude Code sub-agent files.

    Errors are what Claude Code refuses (it does not load the agent); warnings are
    what it silently ignores. Each finding names its rule; the rules' pages are at
    https://agentkb.github.io/agentkb/agents/checker/index.html.

    Exit status: 0 when there are no errors, 1 when there are errors (or warnings,
    with --strict), 2 on a usage error (a missing path, a folder with no *.md files).

    With --conventions, each file is also checked against the conventions of the
    site's guides: every finding names the line, the convention, whether the match
    is evidence that the file states, shows, mentions or contradicts it, and the
    convention's page. A contradiction counts as a warning.
    """
    problems = [f"no such file or directory: {path}" for path in args.paths if not path.exists()]
    problems += [f"no such file or directory: {path}" for path in args.skills_dir if not path.is_dir()]
    # A folder without agent files is most often the wrong folder (a plugin's root
    # instead of its agents/ folder): passing it silently would hide that.
    problems += [
        f"no agent files (*.md) in folder: {path}"
        for path in args.paths
        if path.is_dir() and not definition_files(path)
    ]
    if problems:
        for problem in problems:
            print(f"agentkb check: error: {problem}", file=sys.stderr)
        return 2
    files = definition_paths(args.paths)
    definitions, findings = check_folder(files, skills_dirs=args.skills_dir)
    findings.sort(key=lambda finding: (str(finding.path), finding.line))
    errors = sum(finding.severity == "error" for finding in findings)
    warnings = len(findings) - errors
    conventions: list[ConventionFinding] = []
    notes: list[str] = []
    if args.conventions:
        try:
            from .convention_findings import convention_findings
        except ImportError as exc:
            print(
                f"agentkb check: error: --conventions needs agentkb[conventions] ({exc.name} is missing)",
                file=sys.stderr,
            )
            return 2
        conventions, notes = convention_findings(definitions)
        warnings += sum(finding.stance == "contradicts" for finding in conventions)
    for note in notes:
        print(f"agentkb check: {note}", file=sys.stderr)
    if args.format == "sarif":
        print(json.dumps(sarif_log(findings, conventions=conventions), indent=2))
    elif args.format == "json":
        report: dict[str, Any] = {
            "files": [str(path) for path in files],
            "findings": [finding.as_dict() for finding in findings],
            "summary": {"files": len(files), "errors": errors, "warnings": warnings},
        }
        if args.conventions:
            report["conventions"] = [finding.as_dict() for finding in conventions]
        print(json.dumps(report, indent=2))
    else:
        for finding in findings:
            print(finding)
        for convention in conventions:
            print(convention.text())
        print(
            f"{_plural(len(files), 'file')} checked: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
            + (f"; {_plural(len(conventions), 'convention finding')}" if args.conventions else "")
        )
    return 1 if errors or (args.strict and warnings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits after --help or a usage error; return its status instead so
        # that callers other than the shell get the documented ``int``.
        return exc.code if isinstance(exc.code, int) else 2
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
