"""What an operation may cost upstream, worked out from its document before anything runs.

`estimate` walks the operation about to run (fragments and aliases included, a missing `first`
read as GATEWAY_DEFAULT_PAGE_SIZE) and counts the upstream calls it can make at most, retries
aside. Arguments are read as execution will read them: variables and literals coerced by
graphql-core to their types (`get_variable_values`, `get_argument_values`), so `first: 100.0`
is 100 and `customers(ids: "ID")` is a list of one id, as the resolvers see them. What a
provider's API needs comes from the provider (`listing_calls`, `call_costs`, `capabilities`);
the model, field by field:

- `Query.invoices`: for each provider its filter can reach, the calls of one page
  (`listing_calls`: FlexPrice one search per status part, Xendit one call, or 10 when it
  filters customers or currencies itself).
- `Customer.invoices` under N customers: per provider, N times the calls of one page; a
  provider that batches customers' first pages (FlexPrice) adds one batch per 1000 customers
  (the customers a batch cannot answer are listed alone, so the N stays).
- `invoice`, `node`, `customer`, `customers` by id, and the `Customer` fields a copy embedded
  in an invoice lacks (Xendit's): one look-up per id, batched per provider and level:
  ceil(ids / `ids_per_call`), so FlexPrice one search per 1000 ids, Xendit one call per id.
- `Invoice.customer`: nothing when invoices embed their customer (both built-in providers do),
  else a look-up.
- `Customer.invoiceSummary`, `Invoice.pdfUrl`: one call per object, where the provider has
  the operation.
- `Query.invoicePreview`: one call. A mutation: `MUTATIONS`, what it costs the provider that
  costs most.
- Anything else: nothing.

A connection holds at most `first` invoices of each provider it reaches, and what its nodes ask
for is multiplied by that: nested `first`s multiply. The estimate is an upper bound; `actual`
(the requests sent, counted by `providers.calls`) is usually below it.
"""

from gateway.schema.cost.extension import UpstreamCost
from gateway.schema.cost.model import MUTATIONS, Estimate
from gateway.schema.cost.walk import estimate

__all__ = ["MUTATIONS", "Estimate", "UpstreamCost", "estimate"]
