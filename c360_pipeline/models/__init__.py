"""Customer models fitted on the driver over small aggregates (CLV, churn, clustering)."""
