// The playbook editor: CodeMirror 6 (vendored) over the page's textarea, with YAML
// highlighting, completion of keys and values from the playbook's JSON Schema, and problems
// marked at their line as you type (checked by the server, the same check as Apply).
(function () {
  "use strict";
  var area = document.getElementById("content");
  if (!area || !area.form || !window.CM) return;
  var form = area.form;
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var schema = null;
  fetch("/playbook.schema.json").then(function (r) { return r.json(); })
    .then(function (s) { schema = s; });

  function resolve(node) {
    // Follow $ref into $defs and fold anyOf/oneOf/allOf alternatives into one node.
    if (!node || !schema) return null;
    if (node.$ref) return resolve(schema.$defs[node.$ref.split("/").pop()]);
    var parts = node.anyOf || node.oneOf || node.allOf;
    if (!parts) return node;
    var merged = { properties: {}, enum: [] };
    parts.map(resolve).forEach(function (p) {
      if (!p) return;
      Object.assign(merged.properties, p.properties || {});
      if (p.enum) merged.enum = merged.enum.concat(p.enum);
      if (p.items) merged.items = p.items;
      if (p.type === "array") merged.type = "array";
    });
    return merged;
  }

  function child(node, key) {
    node = resolve(node);
    if (!node) return null;
    if (key === "-") return node.items ? resolve(node.items) : null;
    return node.properties && node.properties[key] ? resolve(node.properties[key]) : null;
  }

  // The keys from the document's top to the cursor's line, by indentation ("-" for an item).
  function pathAt(doc, lineNo, indent) {
    var path = [];
    for (var n = lineNo - 1; n >= 1 && indent > 0; n--) {
      var text = doc.line(n).text;
      if (!text.trim() || text.trim().charAt(0) === "#") continue;
      var own = text.search(/\S/);
      if (own >= indent) continue;
      var item = text.slice(own).match(/^- (?:([\w.-]+):)?/);
      var key = text.slice(own).match(/^([\w.-]+):/);
      if (item) {
        if (item[1] && own + 2 < indent) path.unshift(item[1]);
        path.unshift("-");
      } else if (key) {
        path.unshift(key[1]);
      }
      indent = own;
    }
    return path;
  }

  function complete(context) {
    if (!schema) return null;
    var line = context.state.doc.lineAt(context.pos);
    var before = line.text.slice(0, context.pos - line.from);
    var value = before.match(/^(\s*(?:- )?)([\w.-]+):\s*([\w.-]*)$/);
    var key = before.match(/^(\s*(?:- )?)([\w.-]*)$/);
    if (!value && !key) return null;
    var lead = (value || key)[1];
    var path = pathAt(context.state.doc, line.number, lead.length);
    if (lead.indexOf("-") >= 0) path.push("-");
    var node = schema;
    for (var i = 0; i < path.length && node; i++) node = child(node, path[i]);
    if (!node) return null;
    if (value) {
      var field = child(node, value[2]);
      var options = (field && field.enum || []).map(function (v) {
        return { label: String(v), type: "enum" };
      });
      return options.length ? { from: context.pos - value[3].length, options: options } : null;
    }
    var props = resolve(node) && resolve(node).properties;
    if (!props) return null;
    return {
      from: context.pos - key[2].length,
      options: Object.keys(props).map(function (name) {
        var about = resolve(props[name]) || {};
        return { label: name, type: "property", apply: name + ": ", info: about.description || props[name].description };
      }),
    };
  }

  function problems(view) {
    var body = new FormData();
    body.append("content", view.state.doc.toString());
    return fetch("/playbook/check", { method: "POST", body: body, headers: { "X-CSRF-Token": csrf } })
      .then(function (r) { return r.ok ? r.json() : { problems: [] }; })
      .then(function (found) {
        return found.problems.map(function (p) {
          var line = view.state.doc.line(Math.min(Math.max(p.line || 1, 1), view.state.doc.lines));
          return { from: line.from, to: line.to, severity: "error",
                   message: (p.path ? p.path + ": " : "") + p.message };
        });
      })
      .catch(function () { return []; });
  }

  // In a shadow root CodeMirror styles itself with constructed style sheets: the page's
  // Content Security Policy allows no inline <style> element, which it would add otherwise.
  var host = document.createElement("div");
  host.className = "playbook-editor";
  area.parentNode.insertBefore(host, area);
  var shadow = host.attachShadow({ mode: "open" });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(
    ".cm-editor{border:1px solid #e4e7ec;border-radius:6px;height:560px;font-size:13px;" +
    "background:#fff}.cm-scroller{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}" +
    // CodeMirror draws lint marks with data: images, which the policy's img-src refuses.
    ".cm-lint-marker{background-image:none!important;content:none!important}" +
    ".cm-lint-marker-error{background:#c92a2a!important;border-radius:50%;transform:scale(.6)}" +
    ".cm-lintRange-error{background-image:none!important;" +
    "text-decoration:underline wavy #c92a2a}"
  );
  shadow.adoptedStyleSheets = [sheet];
  var mount = document.createElement("div");
  shadow.appendChild(mount);
  var view = new CM.EditorView({
    doc: area.value,
    parent: mount,
    root: shadow,
    extensions: [
      CM.basicSetup, CM.yaml(), CM.autocompletion({ override: [complete] }),
      CM.lintGutter(), CM.linter(problems, { delay: 500 }),
      CM.EditorView.contentAttributes.of({ "aria-label": "The playbook (YAML)" }),
    ],
  });
  // The scroller is a region keyboards must reach too (WCAG 2.1.1, axe's scrollable-region).
  view.scrollDOM.setAttribute("tabindex", "0");
  area.hidden = true;
  form.addEventListener("submit", function () { area.value = view.state.doc.toString(); });
  window.playbookEditor = view;
})();
