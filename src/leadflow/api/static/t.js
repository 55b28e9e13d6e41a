/* leadflow website tracker: page views, identify and form submissions to leadflow's /v1 API.
 *
 *   <script>window.leadflow = window.leadflow || [];</script>
 *   <script async src="https://LEADFLOW_HOST/t.js" data-key="WRITE_KEY"></script>
 *
 * Calls made before the script loads are queued: leadflow.push(["track", "Signed Up", {}]).
 * After it loads: leadflow.page(), leadflow.identify(userId, traits), leadflow.track(name, props).
 * A submitted form with an e-mail field becomes `identify` + `Form Submitted` (one request).
 * Never sent: password, hidden and file fields, or fields named like card, cvv, ssn, password.
 */
(function (window, document) {
  "use strict";
  var script = document.currentScript;
  if (!script || (window.leadflow && window.leadflow.loaded)) return;
  var writeKey = script.getAttribute("data-key") || "";
  var host = (script.getAttribute("data-host") || new URL(script.src).origin).replace(/\/$/, "");
  var autoPage = script.getAttribute("data-auto-page") !== "false";
  var COOKIE = "lf_aid";
  var USER = "lf_uid";
  var VERSION = "1.0.0";
  var SECRET = /pass|card|cvv|cvc|ssn|iban|secret|token/i;
  var KEPT_TYPES = { text: 1, email: 1, tel: 1, url: 1, number: 1, "select-one": 1, textarea: 1 };

  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  function readCookie(name) {
    var found = document.cookie.split("; ").filter(function (p) { return p.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
  }

  function anonymousId() {
    var id = readCookie(COOKIE);
    if (!id) {
      id = uuid();
      var secure = location.protocol === "https:" ? "; Secure" : "";
      document.cookie = COOKIE + "=" + id + "; Max-Age=31536000; Path=/; SameSite=Lax" + secure;
    }
    return id;
  }

  function storedUser() {
    try { return window.localStorage.getItem(USER); } catch (e) { return null; }
  }

  function campaign() {
    var params = new URLSearchParams(location.search);
    var found = {};
    [["utm_source", "source"], ["utm_medium", "medium"], ["utm_campaign", "name"],
     ["utm_term", "term"], ["utm_content", "content"]].forEach(function (pair) {
      var value = params.get(pair[0]);
      if (value) found[pair[1]] = value;
    });
    return found;
  }

  function pageFacts() {
    return { path: location.pathname, url: location.href, search: location.search,
             referrer: document.referrer, title: document.title };
  }

  function message(type, fields) {
    var now = new Date().toISOString();
    var body = { type: type, messageId: uuid(), timestamp: now, anonymousId: anonymousId(),
                 context: { page: pageFacts(), campaign: campaign(), userAgent: navigator.userAgent,
                            library: { name: "leadflow.js", version: VERSION } } };
    var user = storedUser();
    if (user) body.userId = user;
    for (var key in fields) if (fields[key] !== undefined) body[key] = fields[key];
    return body;
  }

  function send(messages) {
    var sentAt = new Date().toISOString();
    messages.forEach(function (m) { m.sentAt = sentAt; });
    // text/plain keeps it a "simple" cross-origin request: no CORS preflight round trip.
    return fetch(host + "/v1/b", {
      method: "POST", keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ batch: messages, writeKey: writeKey, sentAt: sentAt })
    }).catch(function () { /* tracking never breaks the page */ });
  }

  var api = {
    loaded: true,
    page: function (name, properties) {
      var props = Object.assign(pageFacts(), properties || {});
      return send([message("page", { name: name || document.title, properties: props })]);
    },
    track: function (event, properties) {
      return send([message("track", { event: event, properties: properties || {} })]);
    },
    identify: function (userId, traits) {
      if (userId) { try { window.localStorage.setItem(USER, String(userId)); } catch (e) {} }
      return send([message("identify", { userId: userId || undefined, traits: traits || {} })]);
    },
    push: function (call) {
      if (call && typeof api[call[0]] === "function") api[call[0]].apply(api, call.slice(1));
    }
  };

  function formFields(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var name = el.name || el.id;
      if (!name || !KEPT_TYPES[el.type] || SECRET.test(name) || !el.value) return;
      fields[name] = el.value;
    });
    return fields;
  }

  function emailOf(form, fields) {
    var input = form.querySelector("input[type=email]");
    var value = (input && input.value) || fields.email || fields.Email || "";
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value.trim()) ? value.trim().toLowerCase() : null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("data-leadflow-ignore")) return;
    var fields = formFields(form);
    var email = emailOf(form, fields);
    if (!email) return;
    try { window.localStorage.setItem(USER, email); } catch (e) {}
    var traits = Object.assign({}, fields, { email: email });
    var props = { form_id: form.id || null, form_name: form.getAttribute("name") || null,
                  action: form.getAttribute("action") || null, path: location.pathname };
    send([message("identify", { userId: email, traits: traits }),
          message("track", { userId: email, event: "Form Submitted", properties: props })]);
  }, true);

  var queued = Array.isArray(window.leadflow) ? window.leadflow : [];
  window.leadflow = api;
  if (autoPage) api.page();
  queued.forEach(api.push);
})(window, document);
