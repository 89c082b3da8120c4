"""The fault suite: the gateway and both sandboxes served over real HTTP on 127.0.0.1, the
sandboxes' fault injection on, clients retrying; what they find is counted in the sandboxes."""
