// Bootstraps GraphiQL. Kept out of the HTML so the page's CSP can use
// script-src 'self' without 'unsafe-inline'.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var params = new URLSearchParams(window.location.search);

  // Shown in the headers editor on first visit (and sent as-is until the
  // user replaces it). Once edited, shouldPersistHeaders keeps the user's
  // headers in localStorage instead.
  var headersHint = JSON.stringify(
    { Authorization: 'Bearer <token from POST /api/v1/auth/login>' }, null, 2);

  var fetchGraphQL = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  // GraphiQL 4 runs its first introspection before the headers editor
  // exists, so that request would go out without the user's persisted
  // Authorization header (and fail against an API that requires it). Any
  // request GraphiQL sends without headers gets the persisted ones instead.
  function fetcher(graphQLParams, opts) {
    if (!opts || !opts.headers) {
      var stored = persistedHeaders();
      if (stored) opts = Object.assign({}, opts, { headers: stored });
    }
    return fetchGraphQL(graphQLParams, opts);
  }
  function persistedHeaders() {
    try {
      var h = JSON.parse(localStorage.getItem('graphiql:headers'));
      return h && typeof h === 'object' ? h : null;
    } catch (e) {
      return null; // nothing stored, or not valid JSON
    }
  }

  var props = {
    fetcher: fetcher,
    defaultHeaders: headersHint,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
  };
  // Shareable links: ?query=...&variables=...&operationName=... prefill the
  // editors. Headers are deliberately not read from the URL, so a crafted
  // link cannot swap in someone else's token.
  if (params.has('query')) props.query = params.get('query');
  if (params.has('variables')) props.variables = params.get('variables');
  if (params.has('operationName')) props.operationName = params.get('operationName');

  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, props));
})();
