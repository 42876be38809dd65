// The portal's service worker: shows the operator's Web Push messages and opens the
// occurrence when the notification is clicked.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data.text() }; }
  var target = self.registration.scope + (data.protocol ? data.protocol + "/" : "");
  event.waitUntil(self.registration.showNotification(data.title || "{{ operator.name|escapejs }}", {
    body: data.body || "",
    tag: data.message_id,
    data: { url: target }
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
