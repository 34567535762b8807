"""PMD views, one module per area: pages (the dashboard and its partials),
api_posts, api_actions, api_downloads (the JSON API of SPEC §6)."""
