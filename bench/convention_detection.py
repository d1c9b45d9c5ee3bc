"""Run the rulebook's rules over a corpus of agent files nobody here wrote, and score them.

Writes every detection to bench/results/detection.json, prints the counts per rule and the
time taken, then scores the hand review in bench/detection_review.toml: precision per rule
kind (code, text, openapi) and per rule, with review entries whose detection no longer
occurs flagged as stale. When agents/definitions/<slug>.stances.toml files exist, it also
prints the recall on them: the share of reviewed stances that a rule detects (same
convention and stance) on one of the stance's evidence lines, and the share of detections
on them that agree with a reviewed stance. AGENTKB_SHOW_MISSES=1 lists the missed stances.

Usage: python bench/convention_detection.py [--corpus DIR] [--review FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

from agentkb.definitions import AgentDefinition, DefinitionError, load_definition  # noqa: E402
from agentkb.detect import Detection, detect  # noqa: E402
from agentkb.rulebook import Rulebook, default_rulebook  # noqa: E402
from agentkb.spectral import SpectralError, detect_openapi  # noqa: E402

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
    entries = tomllib.loads(review_path.read_text("utf-8")).get("review", [])
    kinds = {rule.full_id: rule.kind for rule in rulebook.rules}
    disabled = {rule.full_id for rule in rulebook.rules if rule.disabled}
    present = {(r["file"], r["line"], r["rule"]) for r in records}
    by_kind: dict[str, list[bool]] = defaultdict(list)
    by_rule: dict[str, list[bool]] = defaultdict(list)
    stale, off = [], []
    files = set()
    for entry in entries:
        key = (entry["file"], entry["line"], entry["rule"])
        if entry["rule"] in disabled:
            off.append(entry)
            continue
        if key not in present:
            stale.append(entry)
            continue
        files.add(entry["file"])
        by_kind[kinds.get(entry["rule"], "?")].append(bool(entry["correct"]))
        by_rule[entry["rule"]].append(bool(entry["correct"]))
    reviewed = sum(len(v) for v in by_kind.values())
    print(f"\nreview: {len(entries)} entries, {reviewed} current, over {len(files)} files "
          f"({len(off)} of disabled rules, {len(stale)} stale)")
    for kind in KINDS:
        verdicts = by_kind.get(kind, [])
        if verdicts:
            print(f"  precision {kind:8s} {sum(verdicts)}/{len(verdicts)} = {sum(verdicts) / len(verdicts):.0%}")
        else:
            print(f"  precision {kind:8s} no reviewed detections")
    wrong = {rule: v for rule, v in by_rule.items() if not all(v)}
    for rule, verdicts in sorted(wrong.items()):
        print(f"  {rule}: {sum(verdicts)}/{len(verdicts)} correct")
    for entry in stale:
        print(f"  STALE: {entry['file']}:{entry['line']} {entry['rule']} (the detection no longer occurs)")


def recall_on_seeds(rulebook: Rulebook) -> None:
    folder = ROOT / "agents" / "definitions"
    sidecars = sorted(folder.glob("*.stances.toml"))
    if not sidecars:
        print("\nrecall: no reviewed stances (agents/definitions/*.stances.toml) yet")
        return
    definitions = [load_definition(folder / f"{p.name.removesuffix('.stances.toml')}.md") for p in sidecars]
    found, _ = run_rules(definitions, rulebook)
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    agree: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    for sidecar, definition in zip(sidecars, definitions, strict=True):
        data = tomllib.loads(sidecar.read_text("utf-8"))
        detections = found.get(definition.path, [])
        reviewed = {(conv, s["stance"]) for conv, items in data.items() if isinstance(items, list) for s in items}
        conventions = {conv for conv, _ in reviewed}
        for d in detections:  # a detected mention agrees with any reviewed stance on its convention
            agree[d.rule.kind].append((d.convention, d.stance) in reviewed
                                      or (d.stance == "mentions" and d.convention in conventions))
        for conv_id, stances in data.items():
            if not isinstance(stances, list):
                continue
            for stance in stances:
                lines = {evidence["line"] for evidence in stance.get("evidence", [])}
                totals[stance["stance"]] += 1
                if any(d.convention == conv_id and d.stance == stance["stance"] and d.line in lines
                       for d in detections):
                    hits[stance["stance"]] += 1
                else:
                    misses.append(f"{definition.slug}: {conv_id} {stance['stance']} (lines {sorted(lines)})")
    total, hit = sum(totals.values()), sum(hits.values())
    print(f"\nrecall on {len(sidecars)} reviewed agent(s): {hit}/{total} = {hit / total:.0%}" if total else "")
    for stance in ("states", "shows", "mentions", "contradicts"):
        if totals[stance]:
            print(f"  {stance:12s} {hits[stance]}/{totals[stance]}")
    print("detections on these agents that agree with a reviewed stance (same convention and stance):")
    for kind in KINDS:
        verdicts = agree.get(kind, [])
        if verdicts:
            print(f"  {kind:8s} {sum(verdicts)}/{len(verdicts)} = {sum(verdicts) / len(verdicts):.0%}")
    if os.environ.get("AGENTKB_SHOW_MISSES"):
        for miss in misses:
            print(f"  missed: {miss}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--review", type=Path, default=ROOT / "bench" / "detection_review.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "detection.json")
    args = parser.parse_args()
    rulebook = default_rulebook()
    start = time.perf_counter()
    definitions, skipped = load_corpus(args.corpus)
    loaded = time.perf_counter() - start
    found, seconds = run_rules(definitions, rulebook)
    records = as_records(found, args.corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "corpus": str(args.corpus), "files": len(definitions), "skipped": skipped,
        "rules": len(rulebook.active_rules), "seconds": {"load": loaded, **seconds},
        "detections": records,
    }, indent=1) + "\n", "utf-8")

    per_rule = Counter(str(r["rule"]) for r in records)
    per_kind = Counter(str(r["kind"]) for r in records)
    files_hit = len({r["file"] for r in records})
    print(f"{len(definitions)} files ({len(skipped)} skipped), {len(rulebook.active_rules)} active rules: "
          f"{len(records)} detections in {files_hit} files")
    print(f"time: load {loaded:.2f}s, code+text rules {seconds['code_and_text']:.2f}s, "
          f"openapi (Spectral) {seconds['openapi']:.2f}s")
    print("per kind: " + ", ".join(f"{kind} {per_kind.get(kind, 0)}" for kind in KINDS))
    for rule, count in per_rule.most_common():
        print(f"  {count:4d}  {rule}")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    score_review(args.review, records, rulebook)
    recall_on_seeds(rulebook)


if __name__ == "__main__":
    main()
