"""Reports produced outside the user servers (scheduled jobs, command line): see :mod:`.athena`."""
