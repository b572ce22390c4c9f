"""The ``terraform-provider-connectly`` executable.

Started by Terraform (magic cookie set) it serves the provider; started by a person it explains
itself, runs the local Connectly emulator, or installs itself where Terraform looks for plugins.
Imports stay inside the branches: Terraform starts this program several times per command, so
every module loaded before the first answer costs every user on every run.
"""

from __future__ import annotations

import os
import sys

from . import version

USAGE = """\
terraform-provider-connectly: the Terraform provider for Connectly webhooks (connectly/connectly).

Terraform starts this program itself; you do not run it to use the provider. Instead:

  terraform-provider-connectly install [--dev-overrides]
      Put this provider where `terraform init` finds it (the local plugin mirror), or print a
      CLI configuration with dev_overrides that points Terraform at it.

  terraform-provider-connectly emulator [--port N] [--api-key K] [--state FILE] [--help]
      Run a local Connectly API on 127.0.0.1 to try your HCL offline.

  terraform-provider-connectly serve --debug [--address HOST/NAMESPACE/NAME]
      Start the provider once and print TF_REATTACH_PROVIDERS: Terraform commands run with it
      exported use this process instead of starting the provider (for debuggers, profilers,
      and speed). The address defaults to registry.terraform.io/connectly/connectly.

  terraform-provider-connectly --version | --help

Then, in your configuration:

  terraform {
    required_providers {
      connectly = { source = "connectly/connectly" }
    }
  }
"""


def serve() -> int:
    from .plugin.server import ServeOptions, serve

    return serve(_servicer, ServeOptions(name="provider.connectly"))


def serve_debug(args: list[str]) -> int:
    from .plugin.debug import DEFAULT_ADDRESS
    from .plugin.server import ServeOptions, serve_debug

    address = DEFAULT_ADDRESS
    rest = list(args)
    if "--debug" not in rest:
        sys.stderr.write(
            "terraform-provider-connectly serve: Terraform starts the provider itself; "
            "use `serve --debug` to start it for Terraform to reattach to.\n"
        )
        return 2
    rest.remove("--debug")
    if rest[:1] == ["--address"] and len(rest) == 2 and rest[1].count("/") == 2:
        address = rest[1]
    elif rest:
        sys.stderr.write(f"serve --debug: unexpected {' '.join(rest)!r}\n\n{USAGE}")
        return 2
    return serve_debug(_servicer, ServeOptions(name="provider.connectly"), address)


def _servicer() -> object:
    from .framework.servicer import ProviderServicer
    from .resources.provider import ConnectlyProvider

    return ProviderServicer(ConnectlyProvider())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from .plugin.server import COOKIE_KEY, COOKIE_VALUE, NOT_A_PLUGIN

    if not args:
        if os.environ.get(COOKIE_KEY) == COOKIE_VALUE:
            code = serve()
            # The gRPC threads must not hold up the exit: Terraform kills us after 2 s.
            sys.stderr.flush()
            os._exit(code)
        sys.stderr.write(NOT_A_PLUGIN + "\n" + USAGE)
        return 1
    command, rest = args[0], args[1:]
    if command in ("--version", "-v", "version"):
        print(f"terraform-provider-connectly {version()} (plugin protocol 6)")
        return 0
    if command in ("--help", "-h", "help"):
        print(USAGE, end="")
        return 0
    if command == "emulator":
        from .emulator.cli import main as emulator_main

        return emulator_main(rest)
    if command == "serve":
        code = serve_debug(rest)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # as serve(): gRPC's threads must not hold up the exit
    if command == "install":
        from .tools.install import main as install_main

        return install_main(rest, version())
    sys.stderr.write(f"unknown command {command!r}\n\n{USAGE}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
