"""Command line: run the service, or export its OpenAPI document.

python -m reference_api [--host H] [--port P] [--demo]
python -m reference_api export-openapi [PATH] [--check]
"""

import argparse
import sys
from pathlib import Path

import uvicorn

from reference_api import demo_data
from reference_api.app import create_app
from reference_api.db import migrate
from reference_api.logging_config import configure_logging
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
    app = create_app(Settings())
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


def _serve(host: str, port: int, demo: bool) -> int:
    settings = Settings()
    configure_logging(settings.log_level)
    if demo and settings.environment == "production":
        print(
            "--demo publishes known credentials; refusing with ENVIRONMENT=production",
            file=sys.stderr,
        )
        return 2
    migrate(settings.database_url)
    app = create_app(settings)
    if demo:
        context = app.state.context
        with context.session_factory() as session:
            if session.get(User, demo_data.ADMIN_ID) is None:
                demo_data.seed(session, context.passwords)
    # log_config=None keeps uvicorn from replacing the JSON logging set up above, and
    # its access log would duplicate the one written by RequestContextMiddleware.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-openapi":
        return _export(args.path, args.check)
    return _serve(args.host, args.port, args.demo)


if __name__ == "__main__":
    sys.exit(main())
