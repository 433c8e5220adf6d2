"""Budgets users can see coming (issue 25): pure logic, no tornado and no JupyterHub imports.

``config`` parses ``configure(c, budgets=...)``; ``scope`` says who may read or set what;
``store`` keeps overrides, their audit and the alert ledger in sqlite; ``periods`` projects spend
to the period's end; ``rightsizing`` finds capacity requested but unused; ``alerts`` decides which
thresholds are new; ``channels`` and ``dispatch`` deliver; ``digest`` writes the weekly digest;
``guard`` is the optional pre-spawn check.
"""
