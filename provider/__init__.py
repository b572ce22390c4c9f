"""Terraform provider for Connectly webhook registrations.

Layers, each a subpackage, each importing only those below it:

- ``plugin``: the wire (generated stubs), the gRPC plugin server and the value codec.
  Knows nothing of Connectly.
- ``framework``: schema, diagnostics, plan rules and the Provider service built on ``plugin``.
  Knows nothing of Connectly.
- ``connectly``: the Connectly API client. Knows nothing of Terraform.
- ``resources``: the provider, ``connectly_webhook`` and ``connectly_webhooks``, tying the
  framework to the client.
- ``emulator``: a local Connectly API, an independent reading of the API docs that shares no
  code with the client.
"""


def version() -> str:
    """This installation's version, read from the package metadata (its one source is
    pyproject.toml). Called only where shown, never on the start-up path."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("terraform-provider-connectly")
    except PackageNotFoundError:
        return "0.0.0+unknown"
