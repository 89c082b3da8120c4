"""What every sandbox shares: the app and its entry point (`app`), request counts and the
``/_sandbox`` control routes (`controls`), injected faults (`faults`)."""

from sandboxes.kit.app import AppFactory, Sandbox, SandboxApp, public_link

__all__ = ["AppFactory", "Sandbox", "SandboxApp", "public_link"]
