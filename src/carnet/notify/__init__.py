"""E-mails and SMS: templates, senders, and the jobs that send them.

Invariants:
- Nothing is sent in a request or a transaction: ``queue_email``/``queue_sms`` enqueue a job in
  the caller's transaction (DESIGN.md §7), so a change that rolls back sends nothing, and the
  job sends after commit, with retries. ``queue_emails`` queues many e-mails of one kind as a
  few batch jobs, each sent over one connection with the same guarantees (``tasks``).
- Messages carry no health data and no identifier: each template declares the few variables it
  takes (codes, links, durations), values that look like identifiers are refused, and a test
  renders every template to check. Addresses and phone numbers never reach a log.
- External systems sit behind ``ports`` (Protocols); ``adapters`` holds SMTP, console and
  in-memory senders, chosen by settings. Production refuses the console and in-memory ones.
May import: jinja2, audit, storage, jobs, core.
"""
