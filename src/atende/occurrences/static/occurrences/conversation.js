// The reply form of an occurrence page: a canned reply chosen is copied into the text
// (after what was already typed), ready to be edited before it is sent.
(function () {
  "use strict";

  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-canned]");
    if (!select) return;
    const option = select.selectedOptions[0];
    const text = select.form.querySelector("textarea[name=text]");
    if (!option || !option.value || !text) return;
    text.value = text.value.trim() ? `${text.value.trimEnd()}\n\n${option.dataset.text}` : option.dataset.text;
    select.value = "";
    text.focus();
  });
})();
