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

  // A long filter form (the queue's) folds behind its summary on a phone's width, so the
  // list it filters comes first; the summary says how many filters are on. On a wider
  // screen it stays open and its summary is hidden (atende.css). Without JavaScript it is
  // drawn open.
  const narrow = window.matchMedia("(max-width: 700px)");

  function countFilters(details) {
    const mark = details.querySelector("[data-filters-on]");
    if (!mark) return;
    const ignored = (details.dataset.ignore || "").split(" ");
    let on = 0;
    details.querySelectorAll("input, select, textarea").forEach((control) => {
      if (!control.name || control.type === "hidden" || ignored.includes(control.name)) return;
      const checkable = control.type === "checkbox" || control.type === "radio";
      if (checkable ? control.checked : control.value.trim() !== "") on += 1;
    });
    mark.textContent = on ? `(${on})` : "";
  }

  function fold() {
    document.querySelectorAll("details.fold-narrow").forEach((details) => {
      details.open = !narrow.matches;
      countFilters(details);
    });
  }
  fold();
  narrow.addEventListener("change", fold);
  // Applied, the filters fold again over the list they chose; refused or failed, they stay
  // open with what was typed.
  document.addEventListener("htmx:afterRequest", (event) => {
    const details = event.detail.elt.closest("details.fold-narrow");
    if (!details || !event.detail.successful) return;
    countFilters(details);
    if (narrow.matches) details.open = false;
  });

  // On a phone's width the menu and a section's own pages scroll sideways in one row
  // (atende.css): the one open is brought into view.
  if (narrow.matches) {
    document
      .querySelectorAll('.mainnav [aria-current="page"], .subnav [aria-current="page"]')
      .forEach((open) => open.scrollIntoView({ block: "nearest", inline: "nearest" }));
  }

  // A table wider than the screen scrolls sideways in its own box (atende.css): a box that
  // scrolls takes the keyboard's focus, so its hidden columns are reached with the arrow
  // keys too, not only with a finger or a mouse. Checked again when the width changes and
  // when htmx draws new rows.
  const SCROLLERS = "table.table, .table-scroll";
  function scrollersFocusable() {
    document.querySelectorAll(SCROLLERS).forEach((box) => {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.dataset.scrollFocus = "";
      } else if (!scrolls && "scrollFocus" in box.dataset) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollFocus;
      }
    });
  }
  scrollersFocusable();
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(scrollersFocusable, 200);
  });
  document.addEventListener("htmx:afterSettle", scrollersFocusable);

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

  // A request the person made that failed (a 5xx, a 403 or 404, no answer at all) says so
  // at the foot of the screen: htmx leaves such answers out, and the button would seem to
  // do nothing. What polls is left quiet (the next tick asks again).
  const failed = document.getElementById("request-failed");

  function tell(text, signIn = "") {
    if (!failed) return;
    failed.querySelector("p").textContent = text;
    const link = failed.querySelector("[data-sign-in]");
    link.hidden = !signIn;
    if (signIn) link.href = signIn;
    failed.hidden = false;
  }
  // A session that ended (core.middleware.SignInAgainMiddleware): a search the person asked
  // for follows the answer to the sign-in page; a poll or a form being sent does not take
  // the screen, and what was typed on it, away: it says so, with the way to sign in.
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.getResponseHeader("Atende-Sign-In") !== "true" || !failed) return;
    const search = event.detail.requestConfig.verb === "get" && !polls(event.detail.elt);
    if (search) return;
    event.preventDefault();
    event.detail.signedOut = true; // the same details reach htmx:afterRequest
    tell(failed.dataset.signedOut, xhr.getResponseHeader("HX-Redirect"));
  });
  document.addEventListener("htmx:responseError", (event) => {
    if (!failed || polls(event.detail.elt)) return;
    tell(failed.dataset.server.replace("{status}", event.detail.xhr.status));
  });
  ["htmx:sendError", "htmx:timeout"].forEach((name) =>
    document.addEventListener(name, (event) => {
      if (failed && !polls(event.detail.elt)) tell(failed.dataset.network);
    }),
  );
  document.addEventListener("htmx:afterRequest", (event) => {
    const done = event.detail.successful && !event.detail.signedOut;
    if (failed && done && !polls(event.detail.elt)) failed.hidden = true;
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("#request-failed [data-dismiss]")) failed.hidden = true;
  });
})();
