// The gateway's GraphiQL page: Strawberry's inline bootstrap script, served as a file so the
// page's Content-Security-Policy allows no inline script. React, ReactDOM, GraphiQL and
// GraphiQLPluginExplorer are the globals of the files the page loads before this one.
// What differs from Strawberry's: no js-cookie, whose only use was to send Django's
// `csrftoken` cookie as x-csrftoken (the gateway sets no cookie: its requests are JSON POSTs).
"use strict";

(function () {
  const EXAMPLE_QUERY = `# Welcome to GraphiQL
#
# GraphiQL is an in-browser tool for writing, validating, and
# testing GraphQL queries.
#
# Type queries into this side of the screen, and you will see intelligent
# typeaheads aware of the current GraphQL type schema and live syntax and
# validation errors highlighted within the text.
#
# Keyboard shortcuts:
#
#       Run Query:  Ctrl-Enter (or press the play button above)
#
#   Auto Complete:  Ctrl-Space (or just start typing)
#
`;

  // URL parameters, for sharing a query: ?q=...&variables=...&headers=...
  const parameters = {};

  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
        entry.slice(eq + 1),
      );
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);

    const newSearch =
      "?" +
      Object.keys(parameters)
        .filter(function (key) {
          return Boolean(parameters[key]);
        })
        .map(function (key) {
          return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
        })
        .join("&");
    history.replaceState(null, null, newSearch);
  }

  // The page is served at the GraphQL endpoint itself, whatever prefix a proxy adds.
  const fetchURL = window.location.href.split("?")[0];

  function httpUrlToWebSocketUrl(url) {
    const parsedURL = new URL(url);
    parsedURL.protocol = parsedURL.protocol === "http:" ? "ws:" : "wss:";
    parsedURL.hash = "";
    return parsedURL.toString();
  }

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL,
    headers: {},
    subscriptionUrl: httpUrlToWebSocketUrl(fetchURL),
  });

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [headers, setHeaders] = React.useState(parameters.headers);

    function onEditQuery(newQuery) {
      setQuery(newQuery);
      updateURL({ q: newQuery });
    }

    function onEditVariables(newVariables) {
      setVariables(newVariables);
      updateURL({ variables: newVariables });
    }

    function onEditHeaders(newHeaders) {
      setHeaders(newHeaders);
    }

    const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query: query,
      variables: variables,
      headers: headers,
      onEditQuery: onEditQuery,
      onEditVariables: onEditVariables,
      onEditHeaders: onEditHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQLWithExplorer));
})();
