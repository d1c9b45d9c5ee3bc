"""What a reader sees in a real browser: light and dark themes, and the site's own search."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import dump_dom, screenshot
from bs4 import BeautifulSoup
from PIL import Image, ImageStat

AGENT_PAGE = "agents/sonnet-typescript-fastapi.html"


def _luminance(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return ImageStat.Stat(image.convert("L").crop(box)).mean[0]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_an_agent_page_renders_in_both_colour_schemes(html: Path, tmp_path: Path, dark: bool) -> None:
    shot = Image.open(screenshot((html / AGENT_PAGE).as_uri(), tmp_path / "page.png", dark=dark))
    width, height = shot.size
    background = _luminance(shot, (width - 200, height - 200, width - 20, height - 20))
    assert (background < 60) if dark else (background > 200)
    # The page is not blank: the title and the card put dark-on-light (or the reverse) ink on it.
    content = shot.convert("L").crop((380, 0, width - 100, 800))
    assert content.getextrema()[1] - content.getextrema()[0] > 150


SEARCHES = {
    "409": "guides/status-codes.html",
    "refresh token": "guides/authentication.html",
    "N+1": "guides/databases.html",
    "bcrypt": "guides/passwords.html",
    "pagination": "guides/pagination.html",
    "problem details": "guides/errors.html",
    "API-PLURAL-NOUNS": "guides/api-design.html",
}


@pytest.mark.parametrize("query", SEARCHES)
def test_the_site_search_puts_the_right_page_in_the_top_three(html: Path, query: str) -> None:
    dom = dump_dom((html / "search.html").as_uri() + "?q=" + query.replace("+", "%2B").replace(" ", "+"))
    results = [a["href"].split("#")[0] for a in BeautifulSoup(dom, "html.parser").select("ul.search li a")]
    assert SEARCHES[query] in results[:3], results[:5]
