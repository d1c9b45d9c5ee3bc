// Filters for the conventions matrix (agentkb.matrix): rows by topic, level and
// whether they are disputed; columns by agent, and agents with no stance on request.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.kb-matrix-filters")) {
    const table = form.nextElementSibling.querySelector("table.kb-matrix");
    const value = (name) => form.querySelector(`[data-kb-filter="${name}"]`);
    const apply = () => {
      const topic = value("topic").value;
      const level = value("level").value;
      const agent = value("agent").value;
      const disputed = value("disputed").checked;
      const silent = value("silent").checked;
      for (const row of table.tBodies[0].rows) {
        row.hidden = (topic && row.dataset.topic !== topic)
          || (level && row.dataset.level !== level)
          || (disputed && !("disputed" in row.dataset));
      }
      for (const cell of table.querySelectorAll("[data-agent]")) {
        const slug = cell.dataset.agent;
        cell.hidden = agent ? slug !== agent : ("silent" in cell.dataset && !silent);
      }
    };
    form.addEventListener("change", apply);
    form.addEventListener("submit", (event) => event.preventDefault());
  }
});
