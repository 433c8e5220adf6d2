"""``jupyter remote-dev report ...``: reports made from the command line or a scheduled job."""

from __future__ import annotations

from ..cliapp import SubcommandApp


class ReportApp(SubcommandApp):
    """Make reports: `report athena` (weekly Athena query cost)."""

    command = "jupyter remote-dev report"
    description = __doc__
    subcommands = {
        "athena": (
            "jupyter_remote_dev.reports.athena.cli.AthenaReportApp",
            "Weekly Athena query cost per workgroup: HTML, JSON, CSV; to a folder or S3.",
        ),
    }
