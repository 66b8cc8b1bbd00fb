"""Senders behind the notify ports: SMTP (``smtp``), console and in-memory (``local``)."""
