"""The GraphQL side of invoice-gateway: the ASGI app, its settings and its schema."""

from gateway.app import create_app, create_app_from_environment
from gateway.schema import build_schema
from gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "build_schema", "create_app", "create_app_from_environment"]
