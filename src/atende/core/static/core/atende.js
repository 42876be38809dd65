// Every page: a select marked data-submit-on-change (the language) applies the choice at
// once; without JavaScript its form shows a button instead.
(function () {
  "use strict";
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-submit-on-change]");
    if (select) select.form.requestSubmit();
  });

  // What polls (the screen pop, the queue, a chat, a progress bar) waits while its tab is
  // hidden: an attendant's other tabs cost the server nothing. A tab shown again asks at
  // once instead of at its next tick.
  const polls = (element) => (element.getAttribute("hx-trigger") || "").includes("every ");

  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden && polls(event.detail.elt)) event.preventDefault();
  });

  document.addEventListener("visibilitychange", () => {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[hx-get][hx-trigger]").forEach((element) => {
      if (!polls(element)) return;
      htmx.ajax("GET", element.getAttribute("hx-get"), {
        source: element,
        target: element,
        swap: element.getAttribute("hx-swap") || "innerHTML",
      });
    });
  });
})();
