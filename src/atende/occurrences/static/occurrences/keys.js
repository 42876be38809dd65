// Keyboard shortcuts of the attendant's panel. In the queue: j / k move to the next /
// previous occurrence (its protocol link takes the focus, so Enter opens it), a opens it
// ready to take (its start button focused), / goes to the search. On an occurrence page
// opened that way (#assumir), the start button has the focus: Enter takes it.
(function () {
  "use strict";

  function typing(event) {
    const target = event.target;
    return target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName);
  }

  function rows() {
    return Array.from(document.querySelectorAll("#queue tr[data-protocol]"));
  }

  let current = null; // the protocol in focus, kept across the queue's refreshes

  function focusRow(row) {
    rows().forEach((each) => each.classList.remove("focused"));
    row.classList.add("focused");
    current = row.dataset.protocol;
    row.querySelector("a").focus();
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex((row) => row.dataset.protocol === current);
    const next = at < 0 ? 0 : Math.min(Math.max(at + step, 0), all.length - 1);
    focusRow(all[next]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    if (event.key === "/") {
      const search = document.querySelector('#queue-filters [name="q"]');
      if (search) {
        event.preventDefault();
        const folded = search.closest("details");
        if (folded) folded.open = true;
        search.focus();
      }
    } else if (event.key === "j" || event.key === "k") {
      if (!document.getElementById("queue")) return;
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "a") {
      const row = rows().find((each) => each.dataset.protocol === current);
      if (row) window.location.assign(row.querySelector("a").href + "#assumir");
    }
  });

  // The queue redraws itself every few seconds: the row in focus keeps it.
  document.body.addEventListener("htmx:afterSwap", () => {
    const row = rows().find((each) => each.dataset.protocol === current);
    if (row && document.activeElement === document.body) focusRow(row);
  });

  if (window.location.hash === "#assumir") {
    const start = document.querySelector("[data-start] button");
    if (start) start.focus();
  }
  // The page answers its shortcuts from here on (a deferred script runs after the rows
  // are drawn; browser tests wait for this mark before pressing keys).
  document.documentElement.dataset.shortcuts = "on";
})();
