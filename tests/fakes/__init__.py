"""Local stand-ins for external services (no internet in tests): Telegram Bot API, Discord
webhooks, a generic webhook receiver and an SMTP server (aiosmtpd). Each records exactly
what it received (raw bytes) and can be told to fail, rate-limit or hang."""
