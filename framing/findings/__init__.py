"""Findings: prevalence of labels per group of articles (outlet, period, ...) with
intervals that account for article sampling and the model's errors.

``framing findings`` calls :func:`findings`; see ``docs/findings.md`` for the estimators,
their assumptions and what the intervals cover.  Plots and the HTML page import
matplotlib only when they are made.
"""

from __future__ import annotations

from framing.findings.report import Cell, Comparison, FindingsReport, findings

__all__ = ["Cell", "Comparison", "FindingsReport", "findings"]
