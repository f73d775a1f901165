"""The email channel: mailboxes reached over IMAP and SMTP (Gmail and Microsoft 365 to come).

- `connect`: what the sessions share: one time allowance per session, verified TLS.
- `imap`: `ImapSession`, a signed-in IMAP connection (the connection check, and the poller next).
- `smtp`: `SmtpSession`, a signed-in SMTP connection (the connection check, and the sender next).
- `checks`: Test connection for IMAP accounts: the "imap" and "smtp" checks.
- `automatic`: RFC 3834 detection of automatic messages, which get no auto-reply.

Nothing is imported here: the protocol libraries load only where a session is opened.
"""
