"""A tiny site for in-process tests of agentkb's conventions and evidence."""

project = "tiny"
extensions = ["myst_parser", "sphinx_design", "agentkb"]
root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["agents/definitions", "rulebook", "_build"]
nitpicky = True
myst_enable_extensions = ["colon_fence", "fieldlist", "deflist"]
myst_heading_anchors = 4
agentkb_rulebook = "rulebook"
agentkb_conformance_tests = ""
