// Sphinx search scorer (html_search_scorer): readers ask how to do something, so the
// guides and their conventions answer first; agent pages (the raw material) and generated
// pages come after. Each result is [docname, title, anchor, descr, score, filename, kind].
var Scorer = {
  score: (result) => {
    const [docname, _title, anchor, _descr, score, _filename, kind] = result;
    let s = score;
    if (docname.startsWith("guides/") && docname !== "guides/index" && docname !== "guides/conventions") s += 12;
    if (anchor && anchor.startsWith("#conv-")) s += 8;
    if (docname.startsWith("api-examples/")) s += 4;
    if (docname.startsWith("agents/")) s -= 4;
    if (kind === "title") s += 2;
    return s;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: { 0: 15, 1: 5, 2: -5 },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
