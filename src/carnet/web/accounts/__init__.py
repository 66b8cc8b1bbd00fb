"""Sign-in pages and the session middleware of the portal (``/connexion``, ``/compte/securite``,
``/admin/connexion``); ``cookies`` sets and clears the session and trusted-device cookies."""
