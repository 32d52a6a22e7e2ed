"""Log filters of the settings' LOGGING."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A response refused to the client (4xx: permission denied, not found, CSRF) is logged as its one line:
    the traceback of the exception that made it says nothing an operator needs, and server errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status_code = getattr(record, "status_code", None)
        if status_code is not None and status_code < 500:
            record.exc_info = None
            record.exc_text = None
        return True
