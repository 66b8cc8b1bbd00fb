"""The portal: server-rendered pages for patients, professionals and operators.

For now only the welcome page; the portal shell (DSFR, sign-in, areas) arrives with the identity
issue. Views return a context dict that tests can check without rendering.
May import: authz and every area below it.
"""
