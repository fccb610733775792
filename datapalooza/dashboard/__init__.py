"""The local festival's web dashboard: live crowd mood per stage, the fans' best-stage
ranking, the artists' setlist reports, and the JSON API behind them.

Build the app with ``create_app(DashboardSettings(...))``; uvicorn's factory is
``datapalooza.dashboard.bootstrap:create_app_from_env``. Scores describe facial
expressions, not feelings; face crops are never served.
"""

from datapalooza.dashboard.bootstrap import create_app, create_app_from_env
from datapalooza.dashboard.settings import DashboardSettings

__all__ = ["DashboardSettings", "create_app", "create_app_from_env"]
