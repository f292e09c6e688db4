"""Sessions: one run of a multi-agent system, and the scope that opens one."""

from . import _context, _wire
from ._client import client as _default_client
from ._record import Recorder
from ._scope import Scope
from ._spans import describe


class Session(Recorder):
    """A session being recorded. `end()` is called by its scope (or at exit, for the implicit one)."""

    __slots__ = ("client", "id", "name", "owner", "_ended")

    def __init__(self, client, session_id, name=None, *, tags=None, metadata=None, budget=None, owner=None,
                 announce=True):
        super().__init__(self, None)
        self.client = client
        self.id = session_id
        self.name = name
        self.owner = owner
        self._ended = not announce
        if announce:
            message = {"type": "session.start", "session_id": session_id, "started_at": _wire.now()}
            client.send(_wire.given(message, name=name, tags=[str(t) for t in tags] if tags else None,
                                    metadata=dict(metadata) if metadata else None,
                                    budget=dict(budget) if budget else None))

    def end(self, error=None):
        """Ends the session: completed, or failed with `error` (an exception or a text)."""
        if self._ended:
            return
        self._ended = True
        message = {"type": "session.end", "session_id": self.id, "ended_at": _wire.now(), "status": "completed"}
        if error is not None:
            message["status"] = "failed"
            message["error"] = describe(error) if isinstance(error, BaseException) else str(error)
        self.client.send(message)

    def __repr__(self):
        return f"<flightdeck.Session {self.name!r} {self.id}>"


class SessionScope(Scope):
    """`with flightdeck.session("heist #4"):` / `@flightdeck.session`: a session per use.

    With `id=` of a session started elsewhere and `join=True`, work is filed under it without
    starting or ending it (a queue worker continuing a request's session)."""

    def __init__(self, name=None, *, id=None, tags=None, metadata=None, budget=None, join=False):
        self.name = name
        self.id = id
        self.join = join
        self.options = dict(tags=tags, metadata=metadata, budget=budget)
        if join and not id:
            raise ValueError("flightdeck: session(join=True) needs the id of the session to join")

    def _open(self, call):
        name = self.name or (call.name if call is not None else None)
        return Session(_default_client(), self.id or _wire.new_session_id(), name, announce=not self.join,
                       **self.options)

    def _frame(self, session):
        return _context.Frame(session, None, None)

    def _close(self, session, error, result):
        session.end(error)


def current_session():
    """The session the calling code records into: the current one, else the process's implicit one."""
    frame = _context.get()
    return frame.session if frame is not None else _default_client().implicit_session()


def current_recorder():
    """Where a record made now belongs: the current span, else the current (or implicit) session."""
    frame = _context.get()
    if frame is None:
        return _default_client().implicit_session()
    return frame.span or frame.session
