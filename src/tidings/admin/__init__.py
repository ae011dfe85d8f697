"""The admin side of the site: ingestion health, sources and feeds, users (issue 6).

Queries live in `stats`, the SVG charts in `charts`, and the actions an admin may take (with their
validation and guards) in `service`; the pages themselves are in `tidings.web.routes.admin`.
"""
