"""Sphinx configuration for agentkb. Logic lives in the local extension, _ext/agentkb."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

from agentkb.rulebook import SITE_URL  # noqa: E402

# Where the site is published and where its sources live; a fork or a preview build
# sets these in the environment (the CI workflow and .readthedocs.yaml do).
html_baseurl = (os.environ.get("AGENTKB_BASE_URL") or SITE_URL).rstrip("/") + "/"
agentkb_repository = (os.environ.get("AGENTKB_REPOSITORY") or "https://github.com/agentkb/agentkb").rstrip("/")

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
    "sphinx_sitemap",
    "sphinxext.opengraph",
    "notfound.extension",
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
    "source_repository": f"{agentkb_repository}/",
    "source_branch": "main",
    "source_directory": "",
}

graphviz_output_format = "svg"

openapi_default_renderer = "httpdomain"

copybutton_exclude = ".linenos, .gp, .go"

agentkb_definitions = "agents/definitions"

# Publishing: sitemap.xml, link previews, and a 404 page whose links work at any depth.
sitemap_url_scheme = "{link}"
sitemap_excludes = ["404.html", "search.html", "genindex.html", "http-routingtable.html"]
ogp_site_url = html_baseurl
ogp_image = "_static/social-card.png"
ogp_image_alt = "agentkb: Claude Code agent definitions, compared with current standards"
ogp_social_cards = {"enable": False}
notfound_urls_prefix = urlsplit(html_baseurl).path
notfound_context = {
    "title": "Page not found",
    "body": (
        "<h1>Page not found</h1><p>Nothing is published at this address: the page may have moved. "
        f'Start from the <a href="{notfound_urls_prefix}index.html">home page</a>, '
        f'look through the <a href="{notfound_urls_prefix}agents/index.html">agents</a> or the '
        f'<a href="{notfound_urls_prefix}guides/index.html">guides</a>, or use the search.</p>'
    ),
}
