/* Starts Swagger UI from the settings the page carries (no inline script, for the CSP).
   "Try it out" from a logged-in browser session sends the CSRF token Django expects. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  var token = document.body.dataset.csrfToken;
  config.dom_id = "#swagger-ui";
  config.presets = [window.SwaggerUIBundle.presets.apis];
  if (token) {
    config.requestInterceptor = function (request) {
      request.headers["X-CSRFToken"] = token;
      return request;
    };
  }
  window.SwaggerUIBundle(config);
})();
