"""The ingest library's error: a stage cannot run or finish, and the message says what to fix."""

from movie_assets.lake.readers import LakeInputError


class IngestError(LakeInputError):
    """A stage cannot run or finish; the message says what to fix. A `LakeInputError`: callers that report
    a missing or unreadable input the same way catch both with it."""
