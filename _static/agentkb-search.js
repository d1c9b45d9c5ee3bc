// The search page. Served over HTTP(S): Pagefind's index (built by agentkb.pagefind), queried
// through its JavaScript API; results in rank order, each tagged with its kind (guide,
// convention, agent, API operation) and filterable by kind. Opened from disk (file://), where
// browsers refuse module and WebAssembly loads: Sphinx's own search over searchindex.js.
// The query comes from Furo's search box (search.html?q=...) and stays in the address bar.
(() => {
  const form = document.getElementById("agentkb-search");
  if (!form) return;
  const params = new URLSearchParams(window.location.search);
  const KIND_NAMES = { guide: "Guide", convention: "Convention", agent: "Agent", "API operation": "API operation" };

  const loadScript = (src) => new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.body.appendChild(script);
  });

  const sphinxSearch = async () => {
    const results = document.createElement("div");
    results.id = "search-results";
    form.replaceWith(results);
    const root = document.documentElement.dataset.content_root || "";
    for (const src of ["_static/language_data.js", "_static/searchtools.js", "searchindex.js"]) {
      await loadScript(root + src);
    }
  };

  const input = form.querySelector("input[name=q]");
  const status = form.querySelector(".kb-search-status");
  const list = form.querySelector(".kb-search-results");
  const boxes = [...form.querySelectorAll("input[name=kind]")];
  const bundle = new URL(form.dataset.bundle, document.baseURI);
  let pagefind = null;
  let generation = 0;

  const loadPagefind = async () => {
    if (!pagefind) {
      pagefind = await import(new URL("pagefind.js", bundle).href);
      // Links relative to the site's folder, wherever it is served from.
      await pagefind.options({ baseUrl: new URL("..", bundle).pathname });
    }
    return pagefind;
  };

  const element = (tag, props = {}, ...children) => {
    const el = Object.assign(document.createElement(tag), props);
    el.append(...children);
    return el;
  };

  // The convention a page matched in: the page's best-scoring match that lies within a
  // convention (its <dt id="conv-..."> and the few dozen words of its statement after it).
  // Pagefind records where each element with an id starts, not where it ends: hence the window.
  const CONVENTION_WORDS = 60;
  const convention = (page) => {
    const starts = (page.anchors || []).filter((a) => a.id.startsWith("conv-"));
    let found = null;
    for (const match of page.weighted_locations || []) {
      const holder = starts.filter((a) => a.location <= match.location && match.location - a.location <= CONVENTION_WORDS)
        .sort((a, b) => b.location - a.location)[0];
      if (holder && (!found || match.balanced_score > found.score)) found = { holder, score: match.balanced_score };
    }
    if (!found) return null;
    return { id: found.holder.text.trim().split(/\s+/)[0], url: `${page.url.split("#")[0]}#${found.holder.id}` };
  };

  const render = (query, pages, counts) => {
    list.replaceChildren(...pages.map((page) => {
      const kind = page.meta.kind || "";
      const link = element("a", { className: "kb-result-link", href: page.url }, page.meta.title || page.url);
      const tag = element("span", { className: "kb-result-kind" }, KIND_NAMES[kind] || kind);
      const excerpt = element("p", { className: "kb-result-excerpt" });
      excerpt.innerHTML = page.excerpt; // Pagefind's excerpt: escaped text with <mark> around matches
      const item = element("li", { className: "kb-result" }, element("p", { className: "kb-result-title" }, link, " ", tag));
      const conv = convention(page);
      if (conv) {
        item.append(element("p", { className: "kb-result-convention" }, "Convention ",
          element("a", { className: "kb-result-convention-link", href: conv.url }, element("code", {}, conv.id))));
      }
      item.append(excerpt);
      const subs = (page.sub_results || []).filter((s) => s.url !== page.url && s.title !== page.meta.title).slice(0, 3);
      if (subs.length) {
        item.append(element("ul", { className: "kb-result-sections" },
          ...subs.map((s) => element("li", {}, element("a", { href: s.url }, s.title)))));
      }
      return item;
    }));
    for (const count of form.querySelectorAll(".kb-count")) {
      const n = counts?.[count.dataset.kind];
      count.textContent = query && n !== undefined ? `(${n})` : "";
    }
  };

  const search = async () => {
    const query = input.value.trim();
    const kinds = boxes.filter((b) => b.checked).map((b) => b.value);
    const url = new URL(window.location.href);
    url.search = "";
    if (query) url.searchParams.set("q", query);
    for (const kind of kinds) url.searchParams.append("kind", kind);
    window.history.replaceState(null, "", url);
    const mine = ++generation;
    form.dataset.state = "searching";
    if (!query) {
      status.textContent = "";
      render("", [], null);
      form.dataset.state = "done";
      return;
    }
    status.textContent = `Searching for “${query}”…`;
    const pf = await loadPagefind();
    const found = await pf.search(query, kinds.length ? { filters: { kind: { any: kinds } } } : {});
    const pages = await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
    if (mine !== generation) return; // a newer search has started
    const total = found.results.length;
    status.textContent = total
      ? `${total} ${total === 1 ? "page" : "pages"} for “${query}”${total > 20 ? ", the first 20 shown" : ""}.`
      : `No results for “${query}”.`;
    render(query, pages, (found.totalFilters || found.filters || {}).kind);
    form.dataset.query = query;
    form.dataset.state = "done";
  };

  let timer = 0;
  const later = () => { clearTimeout(timer); timer = setTimeout(search, 200); };

  const start = () => {
    if (window.location.protocol === "file:") { sphinxSearch(); return; }
    form.hidden = false;
    input.value = params.get("q") || "";
    const wanted = params.getAll("kind");
    for (const box of boxes) box.checked = wanted.includes(box.value);
    form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
    input.addEventListener("input", later);
    for (const box of boxes) box.addEventListener("change", search);
    search().catch((error) => {
      console.warn("Pagefind is not available, using Sphinx's search:", error);
      sphinxSearch();
    });
  };
  if (document.readyState === "loading") window.addEventListener("DOMContentLoaded", start);
  else start();
})();
