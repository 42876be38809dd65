// Web Push in the beneficiary portal: on the beneficiary's click, register the portal's
// service worker, subscribe with the operator's VAPID key and hand the subscription to
// Atende, which sends the status actions of kind "push" to it.
(function () {
  "use strict";
  var box = document.querySelector("[data-push]");
  if (!box) return;
  var button = box.querySelector("button");
  var said = box.querySelector("[data-push-status]");
  function say(text) { said.textContent = text; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    say(box.dataset.unsupported);
    button.disabled = true;
    return;
  }
  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/");
    padded += "===".slice((padded.length + 3) % 4);
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    say(box.dataset.working);
    navigator.serviceWorker.register(box.dataset.worker)
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.dataset.key)
        });
      })
      .then(function (subscription) {
        return fetch(box.dataset.url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
          body: JSON.stringify(subscription.toJSON())
        });
      })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error(answer.error || response.statusText);
          say(box.dataset.done);
        });
      })
      .catch(function (error) {
        button.disabled = false;
        say(box.dataset.failed + " " + (error && error.message ? error.message : ""));
      });
  });
})();
