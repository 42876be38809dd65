"""Gunicorn's logger with Atende's masking: the access log writes request lines, which
carry CPFs in API paths and one-time tokens in password-reset links; neither may reach a
log file (LGPD, and a token in a log is a key to an account)."""

from gunicorn.glogging import Logger

from atende.core.logging import RedactPersonalData


class RedactingLogger(Logger):
    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(f, RedactPersonalData) for f in log.filters):
                log.addFilter(RedactPersonalData())
