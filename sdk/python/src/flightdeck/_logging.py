"""A `logging.Handler` that files log records as events under the current span or session."""

import logging
import traceback

from ._session import current_recorder

_LEVELS = ((logging.ERROR, "error"), (logging.WARNING, "warn"), (logging.INFO, "info"))


def level_of(levelno):
    """The protocol level of a `logging` level number."""
    for floor, name in _LEVELS:
        if levelno >= floor:
            return name
    return "debug"


class LoggingHandler(logging.Handler):
    """`logging.getLogger().addHandler(flightdeck.LoggingHandler())`.

    Each record becomes an `event` (category `log`) of the current span, else of the current
    session, else of the process's implicit session: `level` from the record's level, `name`
    the logger's name, `message` the formatted message, and `data` with the source location
    (and the traceback, when the record has one). Records of the `flightdeck` logger itself
    are left out, so that a delivery warning never feeds itself."""

    def emit(self, record):
        if record.name == "flightdeck" or record.name.startswith("flightdeck."):
            return
        try:
            recorder = current_recorder()
            data = {"logger": record.name, "module": record.module, "function": record.funcName,
                    "line": record.lineno, "thread": record.threadName}
            if record.exc_info and record.exc_info[1] is not None:
                data["exception"] = "".join(traceback.format_exception(*record.exc_info))
            recorder.event(record.getMessage(), level=level_of(record.levelno), name=record.name, data=data,
                           at=int(record.created * 1e9))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
