"""English search that also keeps technical compounds whole: N+1, C++, API-PLURAL-NOUNS.

Sphinx splits words on every non-word character, so a reader searching for
"N+1" searches for "n" (too short to be indexed) and finds nothing, and a
convention ID becomes three unrelated words. This language indexes each
compound whole as well as by its parts, and splits the query the same way, so
both "N+1" and "plural" find what they should.

Sphinx's search is the site's fallback (the search page uses Pagefind, see agentkb.pagefind,
and falls back to this index when opened from disk). Its scorer, search_scorer.js, ranks the
guides and their conventions above agent pages: measured on tests/data/search_questions.toml,
top-3 hit rate 62.7% stock, 78.7% with the scorer (bench/search_hit_rate.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.search.en import SearchEnglish

_COMPOUND = re.compile(r"\w+(?:[-+]\w*)+")

# Query terms keep "+" and inner "-"; a leading "-" stays Sphinx's "exclude this word".
SPLITTER = r"""
function splitQuery(query) {
  return query
    .split(/[^\p{Letter}\p{Number}_+\-\p{Emoji_Presentation}]+/gu)
    .map((term) => term.replace(/(?<=.)-+$/u, "").replace(/^--+/u, "-"))
    .filter((term) => term && term !== "-");
}
"""


class TechnicalEnglish(SearchEnglish):
    js_splitter_code = SPLITTER

    def split(self, input: str) -> list[str]:
        compounds = [c.rstrip("-") for c in _COMPOUND.findall(input)]
        return super().split(input) + [c for c in compounds if not c.replace("-", "").isdigit()]


SCORER = str(Path(__file__).with_name("search_scorer.js"))


def _use_scorer(app: Sphinx, config: Config) -> None:
    if not config.html_search_scorer:
        config.html_search_scorer = SCORER


def setup(app: Sphinx) -> None:
    app.add_search_language(TechnicalEnglish)
    app.connect("config-inited", _use_scorer)
