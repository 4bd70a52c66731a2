"use strict";
// Starts Swagger UI on the gateway's OpenAPI document. It is a file of its
// own, not an inline script, so that the page's Content-Security-Policy can
// allow scripts from the gateway only.
//
// The document is fetched here rather than by Swagger UI so that the page can
// say how the native API authenticates (any Basic credential of the tenant)
// when the generated document does not, which gives "Try it out" an
// Authorize button. The document served at /openapi.json is left as it is.
(function () {
  var root = document.documentElement;
  var specURL = new URL("../openapi.json", document.baseURI).href;

  function fail(message) {
    root.setAttribute("data-docs-state", "error");
    var p = document.getElementById("docs-error");
    p.textContent = "The API reference could not be shown: " + message;
    p.hidden = false;
  }

  if (typeof window.SwaggerUIBundle !== "function") {
    fail("Swagger UI did not load.");
    return;
  }
  root.setAttribute("data-docs-state", "loading");
  fetch(specURL, { headers: { Accept: "application/json" }, credentials: "omit" })
    .then(function (resp) {
      if (!resp.ok) {
        throw new Error(specURL + " answered " + resp.status);
      }
      return resp.json();
    })
    .then(function (doc) {
      // protoc-gen-openapiv2's placeholders when the protos set no title or
      // version: the first proto file's name, and "version not set".
      if (doc.info && /\.proto$/.test(doc.info.title || "")) {
        doc.info.title = "Abacus native API";
      }
      if (doc.info && doc.info.version === "version not set") {
        delete doc.info.version;
      }
      // A service with no HTTP mapping (TenantAdminService) has a tag but no
      // operation here; the page lists only what HTTP clients can call.
      if (Array.isArray(doc.tags)) {
        var used = {};
        Object.keys(doc.paths || {}).forEach(function (p) {
          Object.keys(doc.paths[p]).forEach(function (m) {
            (doc.paths[p][m].tags || []).forEach(function (t) { used[t] = true; });
          });
        });
        doc.tags = doc.tags.filter(function (t) { return used[t.name]; });
      }
      if (!doc.securityDefinitions) {
        doc.securityDefinitions = {
          basic: {
            type: "basic",
            description: "Any Basic credential of the tenant: Exigo login@company:password, " +
              "igsend public:private key, or Magento API user:API key."
          }
        };
        doc.security = [{ basic: [] }];
      }
      window.ui = window.SwaggerUIBundle({
        spec: doc,
        dom_id: "#swagger-ui",
        layout: "BaseLayout",
        deepLinking: true,
        displayOperationId: true,
        docExpansion: "list",
        defaultModelsExpandDepth: 0,
        // The default asks validator.swagger.io; the page stays offline.
        validatorUrl: null,
        onComplete: function () {
          root.setAttribute("data-docs-state", "rendered");
        }
      });
    })
    .catch(function (err) {
      fail(String(err && err.message ? err.message : err));
    });
})();
