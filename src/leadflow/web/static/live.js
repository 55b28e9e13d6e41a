// Pushed updates: one EventSource per page (no polling). The server sends "notification",
// "queue" and "lead" events; each becomes an `lf:<name>` event on <body>, which the parts of a
// page that show it listen to (hx-trigger="lf:queue from:body"). Notifications also update the
// bell, pop up as a toast and, when the person allowed it, as a desktop notification.
(() => {
  "use strict";

  function setCount(unread) {
    const count = document.getElementById("bell-count");
    if (!count) return;
    count.textContent = String(unread);
    count.hidden = !unread;
  }

  function toast(note) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const card = document.createElement("div");
    card.className = "toast";
    card.setAttribute("role", "status");
    card.dataset.notification = String(note.id);
    const close = document.createElement("button");
    close.className = "close";
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => card.remove());
    const title = document.createElement("strong");
    const link = document.createElement("a");
    link.href = note.url;
    link.textContent = note.title;  // text, never HTML: alerts quote what visitors typed
    title.appendChild(link);
    const body = document.createElement("div");
    body.className = "note-body";
    body.textContent = note.body;
    card.append(close, title, body);
    box.prepend(card);
    while (box.children.length > 3) box.lastElementChild.remove();
  }

  function desktop(note) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const shown = new Notification(note.title, {body: note.body, tag: note.alert_id});
    shown.addEventListener("click", () => { window.focus(); window.location.assign(note.url); });
  }

  function offerDesktop() {
    const button = document.getElementById("desktop-alerts");
    if (!button || !("Notification" in window) || Notification.permission !== "default") return;
    button.hidden = false;
    button.addEventListener("click", () => {
      Notification.requestPermission().then(() => { button.hidden = true; });
    });
  }

  function relay(name, data) {
    document.body.dispatchEvent(new CustomEvent("lf:" + name, {detail: data}));
  }

  function connect() {
    if (!window.EventSource || !document.getElementById("bell")) return;
    const lead = document.body.dataset.lead;
    const source = new EventSource("/live" + (lead ? "?lead=" + encodeURIComponent(lead) : ""));
    source.addEventListener("hello", (e) => {
      setCount(JSON.parse(e.data).unread);
      document.documentElement.dataset.live = "on";  // for tests and the curious
    });
    source.addEventListener("notification", (e) => {
      const note = JSON.parse(e.data);
      setCount(note.unread);
      toast(note);
      desktop(note);
      relay("notification", note);
    });
    for (const name of ["queue", "lead"]) {
      source.addEventListener(name, (e) => relay(name, JSON.parse(e.data)));
    }
  }

  document.addEventListener("DOMContentLoaded", () => { offerDesktop(); connect(); });
})();
