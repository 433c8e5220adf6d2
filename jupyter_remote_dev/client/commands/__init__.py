"""The ``jupyter remote-dev`` subcommands, one module per command group, on :mod:`.base`."""
