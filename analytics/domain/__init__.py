"""Domain: KPIs, satisfaction, churn, maintenance and themes, computed from the store."""
