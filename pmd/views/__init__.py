"""PMD views, one module per area: pages (the dashboard and its partials),
download_panel (the page's download panel), live (the event stream),
openapi, and the JSON API's routers api_posts, api_actions, api_downloads
(added to the API in pmd/api.py; their conventions in api_conventions)."""
