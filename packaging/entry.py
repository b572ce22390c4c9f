"""The frozen provider's entry point: the same ``main`` as the console script."""

from terraform_provider_connectly.cli import main

raise SystemExit(main())
