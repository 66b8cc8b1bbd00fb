"""The portal: server-rendered pages for patients, professionals and operators.

Jinja2 templates on the State design system (DSFR), French first and English second, under a
configurable brand (``neutral`` by default; ``etat`` for State services only). ``portal.py``
assembles the area onto the app; ``rendering.py`` renders pages inside the shell (``shell.py``);
``patient/``, ``pro/`` and ``admin/`` hold each area's views, which return context dicts that
tests check without rendering; ``pages.py`` the site-wide pages; ``error_pages.py`` the error
pages, which never echo the request.

Invariants: no inline script or style anywhere (the CSP has no 'unsafe-inline'); every unsafe
request passes the CSRF middleware before any handler; every user-facing string goes through the
catalogues (``translations/``; ``make messages``).

Hooks for accounts (they build on this shell): their session middleware, placed outside the CSRF
middleware, sets ``scope["state"]["session_id"]`` (CSRF tokens are then bound to it) and
``request.state.profiles`` (a list of ``shell.ProfileChoice``, rendered by the profile switcher,
which posts ``profile`` to ``shell.PROFILE_SWITCH_ACTION``).

May import: authz and every area below it, through their service, schemas and errors; never
settings or the runtime (the app factory hands the portal a ``PortalDeps``).
"""
