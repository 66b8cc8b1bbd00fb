"""The public pages of a space's life cycle: activation, opposition, families and caregivers,
closing a space. One module per step, each with its ``build_router(portal)``; they call
``portal.deps.enrollment`` and never the tables."""
