"""Command line: run the service, or export its OpenAPI document.

python -m reference_api [--host H] [--port P] [--workers N] [--dev] [--demo]
python -m reference_api export-openapi [PATH] [--check]
"""

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from reference_api import demo_data
from reference_api.app import create_app
from reference_api.db import migrate
from reference_api.models import User
from reference_api.openapi import DEFAULT_SPEC_PATH, REGENERATE_COMMAND, export_openapi, is_current
from reference_api.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default: %(default)s); use PostgreSQL with more than one",
    )
    parser.add_argument(
        "--dev",
        action="store_true",
        help="development mode (same as AGENTKB_DEV=1): without JWT_SECRET, sign tokens "
        "with a random key made at start-up",
    )
    parser.add_argument("--demo", action="store_true", help="seed the demo users and order into an empty database")
    commands = parser.add_subparsers(dest="command")
    export = commands.add_parser("export-openapi", help="write the OpenAPI document as JSON")
    export.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=DEFAULT_SPEC_PATH,
        help="output file (default: %(default)s)",
    )
    export.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if PATH differs from the current API",
    )
    return parser


def _export(path: Path, check: bool) -> int:
    # The document does not depend on the signing key; a throwaway one lets the
    # export run without any configuration.
    app = create_app(Settings(agentkb_dev=True))
    if not check:
        export_openapi(app, path)
        print(f"wrote {path}")
        return 0
    if is_current(app, path):
        print(f"{path} is up to date")
        return 0
    print(
        f"{path} is out of date with the API; regenerate it with: {REGENERATE_COMMAND} {path}",
        file=sys.stderr,
    )
    return 1


def _serve(host: str, port: int, workers: int, dev: bool, demo: bool) -> int:
    if dev:
        os.environ["AGENTKB_DEV"] = "1"
    try:
        settings = Settings()
    except ValueError as exc:
        # pydantic's ValidationError is a ValueError; its text names every bad setting.
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    # Worker processes build their own Settings from the environment: hand them this
    # process's key, so a token signed by one worker is valid on every other.
    os.environ["JWT_SECRET"] = settings.jwt_secret.get_secret_value()
    if demo and settings.environment == "production":
        print(
            "--demo publishes known credentials; refusing with ENVIRONMENT=production",
            file=sys.stderr,
        )
        return 2
    migrate(settings.database_url)
    if demo:
        context = create_app(settings).state.context
        with context.session_factory() as session:
            if session.get(User, demo_data.ADMIN_ID) is None:
                demo_data.seed(session, context.passwords)
        context.engine.dispose()
    # An import string, not an app object: uvicorn can only start several workers from
    # a factory each of them calls. log_config=None keeps uvicorn from replacing the
    # JSON logging the factory sets up, and its access log would duplicate the one
    # written by RequestContextMiddleware.
    uvicorn.run(
        "reference_api.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-openapi":
        return _export(args.path, args.check)
    return _serve(args.host, args.port, args.workers, args.dev, args.demo)


if __name__ == "__main__":
    sys.exit(main())
