"""The localhost HTTP API and web page: `ragmed serve` (needs the `server` extra: fastapi, uvicorn)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .service import ServerConfig


def serve(config: "ServerConfig", log_level: str = "warning", access_log: bool = False,
          announce: "Callable[[], None] | None" = None) -> None:
    """Run the server until interrupted. Refuses a non-loopback address without a token (`ConfigError`,
    before anything else); then calls `announce` (the CLI prints where it serves) and serves."""
    from .security import check_bind

    check_bind(config.host, config.token)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        from ..errors import DependencyMissingError

        raise DependencyMissingError(
            f"`ragmed serve` needs {exc.name}: pip install 'ragmed[server]'.") from exc
    if announce is not None:
        announce()
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level=log_level,
                access_log=access_log, timeout_graceful_shutdown=5)


__all__ = ["serve"]
