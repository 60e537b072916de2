"""One root exception; every error carries the context a user needs to find the problem."""

from __future__ import annotations


class TrialKGError(Exception):
    """Root of every error trialkg raises on purpose."""


class ParseError(TrialKGError):
    """A source file or record could not be read.

    ``file`` is the file name (``archive.zip!member`` for zip members), ``where`` the
    place inside it (a JSON path such as ``$.protocolSection.statusModule``, an XML
    element path, a line number or a page section heading), ``nct_id`` the trial if known.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        where: str | None = None,
        nct_id: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.where = where
        self.nct_id = nct_id
        super().__init__(str(self))

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # errors cross process boundaries (ingest workers): keep every field
        return (_rebuild, (type(self), self.file, self.reason, self.where, self.nct_id))

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(f"at {self.where}")
        if self.nct_id:
            parts.append(f"({self.nct_id})")
        return " ".join(parts) + f": {self.reason}"


def _rebuild(cls: type[ParseError], file: str, reason: str, where: str | None, nct_id: str | None) -> ParseError:
    return cls(file, reason, where=where, nct_id=nct_id)


class UnknownFormat(ParseError):
    """No registered source format recognises the file."""


class StoreError(TrialKGError):
    """The embedded store could not be opened or written."""


class TrialsNotInStore(StoreError):
    """NCT IDs asked for that have no trial graph in the store."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"no trial graph for {', '.join(missing)} in the store")


class QueryError(TrialKGError):
    """A saved query is missing, malformed or got a bad parameter."""


class VocabularyError(TrialKGError):
    """A vocabulary file could not be read."""


class LoadError(TrialKGError):
    """Loading into a remote triple store failed."""


class AuthenticationError(LoadError):
    """The remote store refused the credentials."""
