"""Simulators of the providers' APIs, for tests, benchmarks and a gateway without credentials.

Nothing here is the product: `providers/` never imports this package. `sandboxes.kit` is what
every simulator shares (the app and its public URL, request counts, injected faults, the
``/_sandbox`` control routes); `sandboxes.flexprice` and `sandboxes.xendit` each simulate one
API. Each is registered in the entry-point group ``invoice_gateway.sandboxes`` as a
`sandboxes.kit.Sandbox`, through which the gateway wires a provider without credentials to its
sandbox in process and ``invoice-gateway sandbox NAME`` serves one standalone.
"""
