// The search page: Pagefind's UI with its filters (kind, level, topic); the query comes from
// Furo's search box (search.html?q=...) and stays in the address bar as the reader types.
window.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("pagefind-search");
  if (!element || typeof PagefindUI === "undefined") return;
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
  const query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
});
