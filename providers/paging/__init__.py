"""The one paging engine: where a walk stands, how that is written, the merge, the snapshot bound.

Invoices are listed newest first: creation time descending, then provider, then id. A listing is
walked over several *streams*, each already newest first: the providers of a connection (the
gateway merges them), or a provider's own searches (FlexPrice, when a status filter needs
several). Both levels use the same three parts:

- `Position` (module `position`), where a walk stands in one stream, and its one codec (module
  `codec`: `encode_positions`, `encode_cursor` and their decoders): bounded JSON, read only
  after its size and nesting are checked, every value bounded, anything else refused with
  `BadPosition`.
- `merge` (module `merge`): the newest-first merge of the streams' answers (`Answer`), which
  reads only the creation times and ids read up front from the records, so a `LazyInvoices` is
  mapped only for the items kept. What it returns computes a position only when asked
  (`Merged.positions_after`), so a cursor is encoded only for a client that selects it.
- The snapshot bound `Position.at`: nothing created after it is listed. A stream's first answer
  sets it to its newest invoice's creation time; every later request asks the stream only for
  invoices created before `at` + 1 us (`Position.before`), so invoices created during a walk
  never enter it. A stream with a token of its own keeps that bound (the token may be an offset
  into what the bound selects). A stream resumed by time alone (FlexPrice's searches) moves
  `at` to the last invoice read and drops the ones it already read at exactly `at` (`tie_ids`):
  a keyset, so none is skipped or repeated even when invoices are finalized or voided
  meanwhile, which would shift an offset.
"""

from providers.paging.codec import (
    MAX_CURSOR_CHARS,
    MAX_POSITION_CHARS,
    LazyTokens,
    decode_cursor,
    decode_positions,
    encode_cursor,
    encode_positions,
)
from providers.paging.merge import Answer, Merged, interleave_newest, merge
from providers.paging.position import BadPosition, Position

__all__ = [
    "MAX_CURSOR_CHARS",
    "MAX_POSITION_CHARS",
    "Answer",
    "BadPosition",
    "LazyTokens",
    "Merged",
    "Position",
    "decode_cursor",
    "decode_positions",
    "encode_cursor",
    "encode_positions",
    "interleave_newest",
    "merge",
]
