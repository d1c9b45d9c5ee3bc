// The agents overview: filter the cards and the comparison table by model, tools and
// check findings, and sort both. Data comes from the data-* attributes agentkb writes on
// a hidden span in each card and row; without this script every agent is listed by name.
(() => {
  "use strict";
  const form = document.querySelector("form.kb-agent-filter");
  if (!form) return;

  const HIDDEN = "kb-agent-hidden";
  const entry = (element) => {
    const data = element.querySelector(".kb-agent-data").dataset;
    return {
      element,
      name: data.name,
      model: data.model,
      tools: data.tools === "*" ? "*" : JSON.parse(data.tools),
      findings: Number(data.findings),
      words: Number(data.words),
      samples: Number(data.samples),
    };
  };
  const cards = [...document.querySelectorAll(".kb-overview-card")].map((card) => card.closest(".sd-col") || card);
  const rows = [...document.querySelectorAll("table.kb-comparison > tbody > tr")];
  const lists = [cards, rows].filter((list) => list.length).map((list) => list.map(entry));
  if (!lists.length) return;

  const FAMILIES = ["opus", "sonnet", "haiku", "inherit", "other"];
  const byName = (a, b) => a.name.localeCompare(b.name);
  const orders = {
    name: byName,
    model: (a, b) => FAMILIES.indexOf(a.model) - FAMILIES.indexOf(b.model) || byName(a, b),
    words: (a, b) => b.words - a.words || byName(a, b),
    samples: (a, b) => b.samples - a.samples || byName(a, b),
    findings: (a, b) => b.findings - a.findings || byName(a, b),
  };
  // The comparison table's columns that a sort order follows, for aria-sort.
  const COLUMNS = { name: 0, model: 1, words: 4, samples: 5 };

  const count = form.querySelector(".kb-agent-count");
  const apply = () => {
    const wanted = new FormData(form);
    const model = wanted.get("model");
    const tools = wanted.get("tools");
    const findings = wanted.get("findings");
    const sort = orders[wanted.get("sort")] ? wanted.get("sort") : "name";
    const keep = (agent) =>
      (!model || agent.model === model) &&
      (!tools || (tools === "*" ? agent.tools === "*" : agent.tools !== "*" && agent.tools.includes(tools))) &&
      (!findings || (findings === "with") === agent.findings > 0);
    let shown = 0;
    for (const list of lists) {
      const parent = list[0].element.parentNode;
      shown = 0;
      for (const agent of [...list].sort(orders[sort])) {
        const visible = keep(agent);
        agent.element.classList.toggle(HIDDEN, !visible);
        shown += visible ? 1 : 0;
        parent.appendChild(agent.element);
      }
    }
    const headers = document.querySelectorAll("table.kb-comparison > thead th");
    headers.forEach((th, index) => {
      if (index === COLUMNS[sort]) th.setAttribute("aria-sort", sort === "name" || sort === "model" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    const label = form.querySelector(`select[name="sort"] option[value="${sort}"]`).textContent;
    const total = lists[0].length;
    count.textContent = `${shown === total ? `All ${total}` : `${shown} of ${total}`} agents, by ${label}`;
  };

  // The choices live in the address too (?model=opus&sort=words), so a filtered view can be shared.
  const params = new URLSearchParams(window.location.search);
  for (const select of form.querySelectorAll("select")) {
    const value = params.get(select.name);
    if (value !== null && [...select.options].some((option) => option.value === value)) select.value = value;
  }
  form.addEventListener("change", () => {
    const url = new URL(window.location.href);
    for (const select of form.querySelectorAll("select")) {
      if (select.value && select.selectedIndex !== 0) url.searchParams.set(select.name, select.value);
      else url.searchParams.delete(select.name);
    }
    try {
      window.history.replaceState(null, "", url);
    } catch {
      // Some browsers refuse for file: pages; the filter still works.
    }
  });

  // Column headers the list can be sorted by become buttons that choose that order.
  const sortSelect = form.querySelector('select[name="sort"]');
  document.querySelectorAll("table.kb-comparison > thead th").forEach((th, index) => {
    const key = Object.keys(COLUMNS).find((name) => COLUMNS[name] === index);
    if (!key) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "kb-sort-button";
    button.textContent = th.textContent.trim();
    button.title = `Sort by ${sortSelect.querySelector(`option[value="${key}"]`).textContent}`;
    button.addEventListener("click", () => {
      sortSelect.value = key;
      sortSelect.dispatchEvent(new Event("change", { bubbles: true }));
    });
    th.replaceChildren(button);
  });

  form.hidden = false;
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => event.preventDefault());
  apply();
})();
