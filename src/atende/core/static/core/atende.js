// Every page: a select marked data-submit-on-change (the language) applies the choice at
// once; without JavaScript its form shows a button instead. Forms are sent once; polling
// waits while its tab is hidden.
(function () {
  "use strict";
  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-submit-on-change]");
    if (select) select.form.requestSubmit();
  });

  // A form is sent once: a second click or tap while its answer is on the way (a slow
  // network, an impatient double click) is dropped rather than sent again, which would
  // issue a second protocol or send a message twice. htmx would queue it for after the
  // first, so the capture phase stops it before htmx sees it. The form is free again when
  // its htmx answer arrives, when the page comes back from the history, or after a while
  // (a navigation the person stopped never answers).
  const SENDING_MS = 10000;
  const sending = new WeakMap();

  document.addEventListener(
    "submit",
    (event) => {
      const since = sending.get(event.target);
      if (since !== undefined && Date.now() - since < SENDING_MS) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true,
  );
  document.addEventListener("submit", (event) => {
    // htmx sends its forms itself (and prevents the browser's default): it marks them in
    // htmx:beforeRequest. A form another script stopped is not being sent.
    const form = event.target;
    if (!event.defaultPrevented) sending.set(form, Date.now());
  });
  document.addEventListener("htmx:beforeRequest", (event) => {
    // Only a send of the form (a preview asked while typing leaves the form free).
    const config = event.detail.requestConfig;
    const sent = config.triggeringEvent && config.triggeringEvent.type === "submit";
    const form = event.detail.elt.closest("form");
    if (form && sent) sending.set(form, Date.now());
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest("form");
    if (form) sending.delete(form);
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) document.querySelectorAll("form").forEach((form) => sending.delete(form));
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
