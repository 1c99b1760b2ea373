"""The annotation loop: agreement, adjudication, corpus statistics, suggestion and review."""
