"""Sphinx configuration for agentkb. Logic lives in the local extension, _ext/agentkb."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "agentkb"
author = "The agentkb contributors"
copyright = f"2026, {author}"
release = "0.1.0"

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx_copybutton",
    "sphinx.ext.graphviz",
    "sphinxcontrib.openapi",
    "agentkb",
]

root_doc = "index"
source_suffix = {".md": "markdown"}
# The site is these pages and nothing else that happens to be lying around
# (caches, virtual environments, node_modules); agent files are data for agentkb.
include_patterns = ["index.md", "agents/**", "guides/**", "api-examples/**"]
exclude_patterns = ["agents/definitions", "**/.*"]

nitpicky = True

myst_enable_extensions = [
    "colon_fence",
    "deflist",
    "fieldlist",
    "attrs_inline",
    "attrs_block",
    "substitution",
    "tasklist",
]
myst_heading_anchors = 4

html_theme = "furo"
html_title = "agentkb"
html_logo = "_static/logo.svg"
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
templates_path = ["_templates"]
html_css_files = ["agentkb.css"]
html_copy_source = False
html_theme_options = {
    "source_repository": "https://github.com/agentkb/agentkb/",
    "source_branch": "main",
    "source_directory": "",
}

graphviz_output_format = "svg"

openapi_default_renderer = "httpdomain"

copybutton_exclude = ".linenos, .gp, .go"

agentkb_definitions = "agents/definitions"
