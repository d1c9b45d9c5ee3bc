// Filters for the conventions matrix (agentkb.matrix): rows by topic, level and
// whether they are disputed; columns by agent. Cells carry no attributes (the table
// is large at 200 agents), so a column is found by its header cell's position.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.kb-matrix-filters")) {
    const table = form.nextElementSibling.querySelector("table.kb-matrix");
    const field = (name) => form.querySelector(`[data-kb-filter="${name}"]`);
    const headers = [...table.tHead.rows[0].cells];
    const apply = () => {
      const topic = field("topic").value;
      const level = field("level").value;
      const agent = field("agent").value;
      const disputed = field("disputed").checked;
      for (const row of table.tBodies[0].rows) {
        row.hidden = (topic && row.dataset.topic !== topic)
          || (level && row.dataset.level !== level)
          || (disputed && !("disputed" in row.dataset));
      }
      const hide = headers.map((th) => Boolean(agent && th.dataset.agent && th.dataset.agent !== agent));
      for (const row of table.rows) {
        [...row.cells].forEach((cell, index) => { cell.hidden = hide[index]; });
      }
    };
    form.addEventListener("change", apply);
    form.addEventListener("submit", (event) => event.preventDefault());
  }
});
