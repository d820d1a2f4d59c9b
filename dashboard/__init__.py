"""The office web dashboard: reports, orders, volunteers, the scorecard and archives."""
