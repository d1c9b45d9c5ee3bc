"""Run the rulebook's rules over a corpus of agent files nobody here wrote, and score them.

Writes every detection to bench/results/detection.json, prints the counts per rule and the
time taken, then scores the hand review in guides/detection-review.toml: precision per rule
kind (code, text, openapi) and per rule, with review entries whose detection no longer
occurs flagged as stale. When agents/definitions/<slug>.stances.toml files exist, it also
prints the recall on them: the share of reviewed stances that a rule detects (same
convention and stance) on one of the stance's evidence lines (agentkb.scoring).

Usage: python bench/convention_detection.py [--corpus DIR] [--review FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

from agentkb.definitions import AgentDefinition, DefinitionError, definition_files, load_definition  # noqa: E402
from agentkb.detect import Detection, detect  # noqa: E402
from agentkb.rulebook import Rulebook, default_rulebook  # noqa: E402
from agentkb.scoring import load_detection_review, precision, recall, stale_entries  # noqa: E402
from agentkb.spectral import SpectralError, detect_openapi  # noqa: E402
from agentkb.stances import agent_stances, sidecar_path  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("AGENTKB_CORPUS", ROOT.parent / "shared" / "corpus" / "wshobson-agents"))
KINDS = ("code", "text", "openapi")


def load_corpus(corpus: Path) -> tuple[list[AgentDefinition], list[str]]:
    definitions, skipped = [], []
    for path in sorted(corpus.glob("**/*.md")):
        try:
            definitions.append(load_definition(path))
        except DefinitionError as exc:
            skipped.append(str(exc))
            print(f"skipped: {exc}", file=sys.stderr)
    return definitions, skipped


def run_rules(
    definitions: list[AgentDefinition], rulebook: Rulebook
) -> tuple[dict[Path, list[Detection]], dict[str, float]]:
    rules = rulebook.active_rules
    found: dict[Path, list[Detection]] = {}
    start = time.perf_counter()
    for definition in definitions:
        found[definition.path] = detect(definition, rules)
    middle = time.perf_counter()
    try:
        openapi = detect_openapi(definitions, rulebook)
    except SpectralError as exc:
        print(f"openapi rules not run: {exc}", file=sys.stderr)
        openapi = {}
    end = time.perf_counter()
    for path, detections in openapi.items():
        found[path] = sorted([*found.get(path, []), *detections], key=Detection.sort_key)
    return found, {"code_and_text": middle - start, "openapi": end - middle, "total": end - start}


def as_records(found: dict[Path, list[Detection]], base: Path) -> list[dict[str, object]]:
    return [
        {
            "file": path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path),
            "line": d.line,
            "rule": d.rule.full_id,
            "convention": d.convention,
            "stance": d.stance,
            "kind": d.rule.kind,
            "quote": d.quote,
        }
        for path, detections in sorted(found.items())
        for d in detections
    ]


def score_review(review_path: Path, records: list[dict[str, object]], rulebook: Rulebook) -> None:
    if not review_path.exists():
        print(f"\nno review file at {review_path}")
        return
    entries = load_detection_review(review_path)
    stale = stale_entries(entries, {(str(r["file"]), int(r["line"]), str(r["rule"])) for r in records})
    files = {entry["file"] for entry in entries}
    print(f"\nreview: {len(entries)} entries over {len(files)} files ({len(stale)} stale)")
    for kind, score in precision(entries, rulebook).items():
        print(f"  precision {kind:8s} {score}")
    by_rule: dict[str, list[bool]] = defaultdict(list)
    for entry in entries:
        by_rule[entry["rule"]].append(bool(entry["correct"]))
    for rule, verdicts in sorted(by_rule.items()):
        if not all(verdicts):
            print(f"  {rule}: {sum(verdicts)}/{len(verdicts)} correct")
    for entry in stale:
        print(f"  STALE: {entry['file']}:{entry['line']} {entry['rule']} (the detection no longer occurs)")


def recall_on_seeds(rulebook: Rulebook) -> None:
    """Recall on the reviewed agents, resolved as the site resolves them (code, text and openapi rules)."""
    folder = ROOT / "agents" / "definitions"
    definitions = [load_definition(path) for path in definition_files(folder) if sidecar_path(path).exists()]
    if not definitions:
        print("\nrecall: no reviewed agents (agents/definitions/*.stances.toml) yet")
        return
    found, _ = run_rules(definitions, rulebook)
    stances = []
    problems = 0
    for definition in definitions:
        resolved = agent_stances(definition, rulebook, found.get(definition.path, []))
        problems += len(resolved.problems)
        stances += [{"source": s.source, "stance": s.stance, "rule": s.rule} for s in resolved.stances]
    scores = recall(stances)
    print(f"\nrecall on {len(definitions)} reviewed agents: {scores['all']}")
    for stance in ("states", "shows", "mentions", "contradicts"):
        print(f"  {stance:12s} {scores[stance]}")
    print(f"detections that disagree with a review and are not dismissed: {problems}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--review", type=Path, default=ROOT / "guides" / "detection-review.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "detection.json")
    args = parser.parse_args()
    rulebook = default_rulebook()
    start = time.perf_counter()
    definitions, skipped = load_corpus(args.corpus)
    loaded = time.perf_counter() - start
    found, seconds = run_rules(definitions, rulebook)
    records = as_records(found, args.corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "corpus": str(args.corpus),
                "files": len(definitions),
                "skipped": skipped,
                "rules": len(rulebook.active_rules),
                "seconds": {"load": loaded, **seconds},
                "detections": records,
            },
            indent=1,
        )
        + "\n",
        "utf-8",
    )

    per_rule = Counter(str(r["rule"]) for r in records)
    per_kind = Counter(str(r["kind"]) for r in records)
    files_hit = len({r["file"] for r in records})
    print(
        f"{len(definitions)} files ({len(skipped)} skipped), {len(rulebook.active_rules)} active rules: "
        f"{len(records)} detections in {files_hit} files"
    )
    print(
        f"time: load {loaded:.2f}s, code+text rules {seconds['code_and_text']:.2f}s, "
        f"openapi (Spectral) {seconds['openapi']:.2f}s"
    )
    print("per kind: " + ", ".join(f"{kind} {per_kind.get(kind, 0)}" for kind in KINDS))
    for rule, count in per_rule.most_common():
        print(f"  {count:4d}  {rule}")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    score_review(args.review, records, rulebook)
    recall_on_seeds(rulebook)


if __name__ == "__main__":
    main()
