"""Hand-written pages: the status shown for each Python block is what Sybil does with it.

agentkb.samples reads a page with the parsers the root conftest gives Sybil; here each
status is checked against Sybil running the same page. The forms the former regex got
wrong are covered: ``<!-- skip: next -->`` (it saw no comment: "runs", but Sybil skips) and
``skip: next if(...)`` (it said "skipped", but Sybil runs the block when the condition
is false).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sybil import Sybil
from tinybuild import build, copy_tiny

from agentkb.samples import page_blocks, page_parsers

PAGE = """# Samples

```python
ran = []
ran.append("plain")
```

% skip: next "needs the network"

```python
ran.append("percent-skip")
```

<!-- skip: next -->

```python
ran.append("html-skip")
```

% skip: next if(sys.version_info >= (3, 0), reason="always true")

```python
ran.append("skip-if-true")
```

% skip: next if(sys.version_info < (3, 0), reason="never true")

```python
ran.append("skip-if-false")
```

% invisible-code-block: python
%
% import sys
% ran.append("setup")

```python
ran.append("after-setup")
```

% skip: start "a block of them"

```python
ran.append("in-skipped-range")
```

% skip: end

```python
ran.append("last")
```
"""

#: What Sybil runs, as the page's blocks record it in ``ran``.
RAN = ["plain", "skip-if-false", "setup", "after-setup", "last"]


def _run_with_sybil(path: Path) -> list[str]:
    """Run every example of the page the way pytest's Sybil integration would."""
    sybil = Sybil(parsers=page_parsers(), path=str(path.parent), patterns=[path.name])
    document = sybil.parse(path)
    document.namespace["sys"] = sys
    for example in document:
        try:
            example.evaluate()
        except pytest.skip.Exception:
            pass
        except Exception as exc:  # unittest.SkipTest from Sybil's skipper
            if type(exc).__name__ != "SkipTest":
                raise
    return document.namespace["ran"]


def test_sybil_runs_what_the_page_says(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE, "utf-8")
    assert _run_with_sybil(page) == RAN


def test_each_block_gets_the_status_sybil_gives_it() -> None:
    blocks = [(b.status, b.reason) for b in page_blocks(PAGE) if not b.invisible]
    assert blocks == [
        ("runs", ""),
        ("skipped", "needs the network"),
        ("skipped", ""),  # <!-- skip: next -->: the old regex said "runs"
        ("skipped-if", '(sys.version_info >= (3, 0), reason="always true")'),
        ("skipped-if", '(sys.version_info < (3, 0), reason="never true")'),  # the old regex: "skipped"
        ("runs-with-setup", ""),
        ("skipped", "a block of them"),
        ("runs", ""),
    ]


def test_the_statuses_agree_with_what_sybil_runs() -> None:
    visible = [b for b in page_blocks(PAGE) if not b.invisible]
    labels = [
        "plain",
        "percent-skip",
        "html-skip",
        "skip-if-true",
        "skip-if-false",
        "after-setup",
        "in-skipped-range",
        "last",
    ]
    runs = {label for label, b in zip(labels, visible, strict=True) if b.status.startswith("runs")}
    conditional = {label for label, b in zip(labels, visible, strict=True) if b.status == "skipped-if"}
    # Unconditional statuses are exact; a conditional one runs or not depending on its condition.
    assert runs == set(RAN) - {"setup", "skip-if-false"}
    assert conditional == {"skip-if-true", "skip-if-false"}


def test_a_fence_sybil_does_not_collect_is_not_said_to_run() -> None:
    page = '# P\n\n```python title="x"\nprint(1)\n```\n\n:::{code-block} python\nprint(2)\n:::\n'
    assert page_blocks(page) == []


def test_the_page_badges_follow_sybil(tmp_path: Path) -> None:
    src = copy_tiny(tmp_path / "src")
    (src / "guides/samples.md").write_text(PAGE, "utf-8")
    (src / "index.md").write_text(
        (src / "index.md").read_text("utf-8").replace("guides/conventions\n", "guides/conventions\nguides/samples\n"),
        "utf-8",
    )
    result = build(src)
    assert result.warnings == ""
    badges = [p.select_one(".sd-badge").get_text() for p in result.page("guides/samples").select("p.kb-status")]
    assert badges == ["runs", "skipped", "skipped", "skipped if", "skipped if", "runs with set-up", "skipped", "runs"]
