// The search page. Served over HTTP(S): Pagefind's UI with its filters (kind, level, topic,
// model). Opened from disk (file://), where browsers refuse Pagefind's module and WebAssembly
// loads: Sphinx's own search over searchindex.js, so a local copy of the site still searches.
// The query comes from Furo's search box (search.html?q=...).
(() => {
  const element = document.getElementById("pagefind-search");
  if (!element) return;
  const query = new URLSearchParams(window.location.search).get("q");

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
    element.replaceWith(results);
    const root = document.documentElement.dataset.content_root || "";
    for (const src of ["_static/language_data.js", "_static/searchtools.js", "searchindex.js"]) {
      await loadScript(root + src);
    }
  };

  const pagefindSearch = () => {
    // Absolute URLs, so the site works from any folder (Pagefind's default is the server's root).
    const bundle = new URL(element.dataset.bundle, document.baseURI);
    const ui = new PagefindUI({
      element: "#pagefind-search",
      bundlePath: bundle.pathname,
      baseUrl: new URL("..", bundle).pathname,
      showSubResults: true,
      showImages: false,
      resetStyles: false,
      openFilters: ["kind"],
      translations: { placeholder: "Search the guides, conventions, agents and API" },
    });
    // Pagefind's input is named by its title only (axe: label-title-only); give it a label.
    const input = element.querySelector("input.pagefind-ui__search-input");
    if (input) input.setAttribute("aria-label", "Search this site");
    if (query) ui.triggerSearch(query);
  };

  const start = () => {
    if (window.location.protocol === "file:" || typeof PagefindUI === "undefined") sphinxSearch();
    else pagefindSearch();
  };
  if (document.readyState === "loading") window.addEventListener("DOMContentLoaded", start);
  else start();
})();
