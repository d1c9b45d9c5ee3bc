// Keyboard access to scroll containers (WCAG 2.1.1): a code block or a table wider than the
// page scrolls sideways, which a keyboard user can only do once the container takes focus.
// Only containers that actually overflow become tab stops, re-checked when the width changes
// (a table fits on a desktop and scrolls on a phone). Each gets a role and a name so a
// screen reader says what the focus landed on.
(() => {
  const label = (el) => {
    if (el.matches(".table-wrapper")) {
      const caption = el.querySelector("caption");
      return caption ? `Table: ${caption.textContent.trim()}` : "Table, scrolls sideways";
    }
    const lang = /highlight-([\w+-]+)/.exec(el.closest("[class*=highlight-]")?.className || "");
    return lang && !["default", "text", "none"].includes(lang[1]) ? `Code (${lang[1]}), scrolls sideways` : "Code, scrolls sideways";
  };
  const update = () => {
    for (const el of document.querySelectorAll(".highlight pre, .table-wrapper")) {
      const scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", label(el));
        el.dataset.kbScroll = "";
      } else if (!scrolls && "kbScroll" in el.dataset) {
        for (const a of ["tabindex", "role", "aria-label", "data-kb-scroll"]) el.removeAttribute(a);
      }
    }
  };
  let pending = 0;
  const schedule = () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(update); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
  window.addEventListener("load", update);
  window.addEventListener("resize", schedule);
})();
