"""Self-contained HTML reports (no JavaScript, no CDN, no server: they open from disk).

The experiment scorecard shows the health checks first (sample ratio, allocation,
multiple exposures) — if one alarms, the results below are not to be trusted — then a
forest plot of the relative lift of every metric with its 95% interval (an inline SVG),
guardrails marked, then the numbers, the lift over time (a small line chart per metric
and variant with its interval band, from the daily series) and the primary metric by
slice.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .experiments import HEALTH_CHECKS, Scorecard, scorecard

if TYPE_CHECKING:
    from .client import Client

_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 980px; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: .2rem; } .sub { color: #57606a; margin-top: 0; }
.checks { display: grid; grid-template-columns: repeat(3, 1fr); gap: .8rem; margin: 1rem 0 2rem; }
.check { border: 1px solid #d0d7de; border-radius: 8px; padding: .8rem 1rem; }
.check.ok { border-left: 6px solid #1a7f37; } .check.alarm { border-left: 6px solid #cf222e; background: #fff5f5; }
.check h3 { margin: 0 0 .3rem; font-size: 1rem; } .check .v { font-size: 1.1rem; font-weight: 600; }
.check p { margin: .3rem 0 0; font-size: .85rem; color: #57606a; }
.banner { padding: .8rem 1rem; border-radius: 8px; background: #fff5f5; border: 1px solid #cf222e; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-top: 1rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .35rem .5rem; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
.tag { font-size: .75rem; border-radius: 4px; padding: 0 .3rem; border: 1px solid #d0d7de; }
.tag.guard { border-color: #9a6700; color: #9a6700; } .tag.breach { border-color: #cf222e; color: #cf222e; }
.tag.primary { border-color: #0969da; color: #0969da; }
.charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: .6rem; }
footer { margin-top: 2rem; font-size: .8rem; color: #57606a; }
"""


def _fmt(v: object, pct: bool = False, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v):  # type: ignore[arg-type]
        return "-"
    x = float(v)  # type: ignore[arg-type]
    if pct:
        return f"{x * 100:+.1f}%"
    if abs(x) >= 1e-3 or x == 0:
        return f"{x:.{digits}f}"
    return f"{x:.2e}"


def _percent(v: object, digits: int = 1) -> str:
    """A probability or a loss as a percentage (no sign), '-' when undefined."""
    if v is None or pd.isna(v):  # type: ignore[arg-type]
        return "-"
    return f"{float(v) * 100:.{digits}f}%"  # type: ignore[arg-type]


def _health_html(card: Scorecard) -> str:
    h = card.health
    values = {
        "srm": (
            f"p = {_fmt(h.srm_p_value, digits=4)}",
            f"χ² = {_fmt(h.srm_chi_square)}; units: {escape(h.units_by_variant)}",
        ),
        "allocation": (
            f"{h.allocation_mismatches} mismatched",
            f"{_fmt((h.allocation_mismatch_share or 0) * 100, digits=2)}% of {h.exposures_logged} exposures",
        ),
        "multiple_exposures": (
            f"{h.multiple_variant_learners} learners",
            f"{_fmt((h.multiple_variant_share or 0) * 100, digits=2)}% of {h.learners_exposed} exposed; "
            f"{h.exposures_outside_window} exposures outside the window",
        ),
    }
    cards = []
    for check in HEALTH_CHECKS:
        alarm = bool(getattr(h, check.alarm_column))
        value, detail = values[check.key]
        cards.append(
            f'<div class="check {"alarm" if alarm else "ok"}"><h3>{escape(check.title)}: '
            f'{"ALARM" if alarm else "ok"}</h3><div class="v">{escape(value)}</div>'
            f"<p>{escape(detail)}</p><p>{escape(check.explanation)}</p></div>"
        )
    banner = (
        ""
        if h.is_healthy
        else '<div class="banner"><strong>Health check failed.</strong> Fix the data collection '
        "before reading the results below: they are shown for diagnosis only.</div>"
    )
    return banner + '<div class="checks">' + "".join(cards) + "</div>"


def _lift_and_interval(r: object, sequential: bool) -> tuple[object, object, object, bool]:
    """The relative lift a row is judged on (CUPED-adjusted where CUPED applies) and its
    95% interval: the confidence sequence when ``sequential``."""
    cuped = bool(r.is_cuped_applied) and not pd.isna(r.cuped_relative_lift)  # type: ignore[attr-defined]
    lift = r.cuped_relative_lift if cuped else r.relative_lift  # type: ignore[attr-defined]
    if sequential:
        lo = r.sequential_relative_lift_ci_lower  # type: ignore[attr-defined]
        hi = r.sequential_relative_lift_ci_upper  # type: ignore[attr-defined]
    elif cuped:
        lo, hi = r.cuped_relative_lift_ci_lower, r.cuped_relative_lift_ci_upper  # type: ignore[attr-defined]
    else:
        lo, hi = r.relative_lift_ci_lower, r.relative_lift_ci_upper  # type: ignore[attr-defined]
    return lift, lo, hi, cuped


def _finite(v: object) -> bool:
    return v is not None and not pd.isna(v)  # type: ignore[arg-type]


def forest_plot_svg(results: pd.DataFrame, width: int = 900, sequential: bool = False) -> str:
    """An inline SVG forest plot: relative lift and its 95% CI per metric and variant.

    CUPED-adjusted estimates are drawn when CUPED applies (the decision estimate).
    Guardrail rows are labelled; a breached guardrail is drawn in red. ``sequential``:
    the always-valid confidence sequences instead of the fixed-horizon intervals.
    """
    rows = [(r, *_lift_and_interval(r, sequential)) for r in results.itertuples()]
    finite = [v for _, a, b, c, _ in rows for v in (a, b, c) if v is not None and not pd.isna(v)]
    span = max([0.05, *[abs(float(v)) for v in finite]]) * 1.1
    left, right, top, row_h = 290, 90, 30, 34
    plot_w = width - left - right
    height = top + row_h * max(1, len(rows)) + 40

    def x(v: float) -> float:
        return left + (float(v) + span) / (2 * span) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Forest plot of relative lifts">',
        f'<line x1="{x(0):.1f}" y1="{top - 10}" x2="{x(0):.1f}" y2="{height - 30}" stroke="#57606a" stroke-dasharray="4 3"/>',
    ]
    for tick in (-span, -span / 2, 0.0, span / 2, span):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{height - 12}" font-size="11" text-anchor="middle" fill="#57606a">'
            f"{tick * 100:+.0f}%</text>"
        )
    for i, (r, lift, lo, hi, cuped) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        label = f"{r.metric_id} · {r.variant}"
        tags = []
        if r.is_guardrail:
            tags.append("guardrail")
        if r.is_primary_metric:
            tags.append("primary")
        if cuped:
            tags.append("CUPED")
        # significant: after correction (fixed horizon); the sequence excludes 0 (sequential)
        significant = (
            _finite(lo) and _finite(hi) and (float(lo) > 0 or float(hi) < 0)  # type: ignore[arg-type]
            if sequential
            else bool(r.is_significant)
        )
        color = "#cf222e" if r.is_guardrail_breached else ("#1a7f37" if significant else "#0969da")
        if r.is_guardrail:
            parts.append(
                f'<rect x="0" y="{y - row_h / 2 + 2:.1f}" width="{width}" height="{row_h - 4}" fill="#fff8c5" opacity="0.6"/>'
            )
        parts.append(
            f'<text x="8" y="{y + 4:.1f}" font-size="13" fill="#1f2328">{escape(label)}'
            f'<tspan font-size="10" fill="#57606a"> {escape(" ".join(tags))}</tspan></text>'
        )
        if lift is None or pd.isna(lift):
            parts.append(
                f'<text x="{x(0) + 6:.1f}" y="{y + 4:.1f}" font-size="11" fill="#57606a">not estimable</text>'
            )
            continue
        if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi):
            a, b = max(-span, float(lo)), min(span, float(hi))
            parts.append(
                f'<line x1="{x(a):.1f}" y1="{y:.1f}" x2="{x(b):.1f}" y2="{y:.1f}" stroke="{color}" stroke-width="2"/>'
            )
        parts.append(f'<circle cx="{x(lift):.1f}" cy="{y:.1f}" r="5" fill="{color}"/>')
        parts.append(
            f'<text x="{width - right + 8}" y="{y + 4:.1f}" font-size="11" fill="{color}">{_fmt(lift, pct=True)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _results_table(card: Scorecard, sequential: bool = False) -> str:
    always = " (always valid)" if sequential else ""
    head = (
        "<tr><th>metric</th><th>variant</th><th>control</th><th>treatment</th><th>lift</th>"
        f"<th>95% CI{always}</th><th>p{always}</th><th>CUPED lift</th><th>CUPED p</th>"
        "<th>var. reduction</th><th>adj. p</th><th>chance to beat control</th>"
        "<th>risk of shipping</th></tr>"
    )
    # the risk is in the decision effect's units: a share of the control for the lift
    relative = _decision_effect(card.results) == "relative"

    def risk(v: object) -> str:
        return _percent(v, digits=2) if relative else _fmt(v)

    body = []
    for r in card.results.itertuples():
        if sequential:  # the lift's confidence sequence (CUPED-adjusted where CUPED applies)
            lo, hi = r.sequential_relative_lift_ci_lower, r.sequential_relative_lift_ci_upper
            p = r.sequential_relative_lift_p_value
        else:
            lo, hi, p = r.relative_lift_ci_lower, r.relative_lift_ci_upper, r.relative_lift_p_value
        tags = ""
        if r.is_primary_metric:
            tags += ' <span class="tag primary">primary</span>'
        if r.is_guardrail:
            tags += ' <span class="tag guard">guardrail</span>'
        if r.is_guardrail_breached:
            tags += ' <span class="tag breach">breached</span>'
        body.append(
            f"<tr><td>{escape(str(r.metric_id))}{tags}</td><td>{escape(str(r.variant))}</td>"
            f"<td>{_fmt(r.control_mean)} (n={int(r.control_units)})</td>"
            f"<td>{_fmt(r.treatment_mean)} (n={int(r.treatment_units)})</td>"
            f"<td>{_fmt(r.relative_lift, pct=True)}</td>"
            f"<td>[{_fmt(lo, pct=True)}, {_fmt(hi, pct=True)}]</td>"
            f"<td>{_fmt(p, digits=4)}</td>"
            f"<td>{_fmt(r.cuped_relative_lift, pct=True)}</td>"
            f"<td>{_fmt(r.cuped_relative_lift_p_value, digits=4)}</td>"
            f"<td>{_fmt(r.cuped_variance_reduction, pct=True)}</td>"
            f"<td>{_fmt(r.adjusted_p_value, digits=4)}</td>"
            f"<td>{_percent(r.chance_to_beat_control)}</td>"
            f"<td>{risk(r.risk_of_shipping)}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def _tuning(results: pd.DataFrame) -> str:
    """The confidence sequences' tuning parameter of the experiment."""
    if "sequential_tuning_parameter" in results and len(results):
        return f"{float(results.sequential_tuning_parameter.iloc[0]):g}"
    return "-"


def _decision_effect(results: pd.DataFrame) -> str:
    """The effect the experiment's decisions use (column decision_effect)."""
    if "decision_effect" in results and len(results):
        return str(results.decision_effect.iloc[0])
    return "relative"


def series_chart_svg(
    series: pd.DataFrame, title: str, width: int = 440, height: int = 170, sequential: bool = False
) -> str:
    """A small inline SVG line chart of one metric and variant over the days since the
    start (rows of experiment_daily_results): the relative lift and its 95% interval as a
    band (the confidence sequence when ``sequential``), a dashed line at 0. The y-axis
    fits the second half of the series (the first days' intervals are very wide; they
    are clipped)."""
    points = []
    for r in series.sort_values("day_number").itertuples():
        lift, lo, hi, _ = _lift_and_interval(r, sequential)
        if _finite(lift):
            points.append(
                (
                    int(r.day_number),
                    float(lift),
                    float(lo) if _finite(lo) else None,
                    float(hi) if _finite(hi) else None,
                )  # type: ignore[arg-type]
            )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)} over time">',
        f'<text x="8" y="16" font-size="12" fill="#1f2328">{escape(title)}</text>',
    ]
    if len(points) < 2:
        parts.append(
            '<text x="8" y="40" font-size="11" fill="#57606a">no daily series</text></svg>'
        )
        return "".join(parts)
    later = points[len(points) // 2 :]
    span = max([0.02, *[abs(v) for p in later for v in p[1:] if v is not None]]) * 1.15
    first, last = points[0][0], points[-1][0]
    left, right, top, bottom = 44, 10, 26, 22
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(day: float) -> float:
        return left + (day - first) / max(1, last - first) * plot_w

    def y(v: float) -> float:
        return top + (span - max(-span, min(span, v))) / (2 * span) * plot_h

    banded = [p for p in points if p[2] is not None and p[3] is not None]
    if banded:
        upper = " ".join(f"{x(d):.1f},{y(hi):.1f}" for d, _, _, hi in banded)  # type: ignore[arg-type]
        lower = " ".join(f"{x(d):.1f},{y(lo):.1f}" for d, _, lo, _ in reversed(banded))  # type: ignore[arg-type]
        parts.append(f'<polygon points="{upper} {lower}" fill="#0969da" opacity="0.18"/>')
    parts.append(
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" '
        'stroke="#57606a" stroke-dasharray="4 3"/>'
    )
    line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v, _, _ in points)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#0969da" stroke-width="1.6"/>')
    for v in (-span, 0.0, span):
        parts.append(
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#57606a">{v * 100:+.0f}%</text>'
        )
    for d in (first, last):
        parts.append(
            f'<text x="{x(d):.1f}" y="{height - 6}" font-size="10" text-anchor="middle" '
            f'fill="#57606a">day {d}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _series_html(card: Scorecard, sequential: bool) -> str:
    """One small chart per metric and variant of the results, in their order."""
    daily = card.daily
    if daily is None or daily.empty:
        return '<p class="sub">No daily series.</p>'
    charts = []
    for r in card.results.itertuples():
        rows = daily[(daily.metric_id == r.metric_id) & (daily.variant == r.variant)]
        charts.append(series_chart_svg(rows, f"{r.metric_id} · {r.variant}", sequential=sequential))
    return f'<div class="charts">{"".join(charts)}</div>'


def _slices_html(card: Scorecard, sequential: bool) -> str:
    """The primary metric's rows of experiment_slice_results, by dimension and value."""
    slices = card.slices
    if slices is None or slices.empty or not len(card.results):
        return '<p class="sub">No slices.</p>'
    primary = card.results[card.results.is_primary_metric]
    metric = str((primary if len(primary) else card.results).metric_id.iloc[0])
    rows = slices[slices.metric_id == metric]
    always = " (always valid)" if sequential else ""
    head = (
        "<tr><th>dimension</th><th>value</th><th>variant</th><th>control</th>"
        f"<th>treatment</th><th>lift (CUPED where applied)</th><th>95% CI{always}</th>"
        "<th>adj. p</th></tr>"
    )
    body = []
    for r in rows.itertuples():
        lift, lo, hi, _ = _lift_and_interval(r, sequential)
        body.append(
            f"<tr><td>{escape(str(r.dimension_id))}</td><td>{escape(str(r.dimension_value))}</td>"
            f"<td>{escape(str(r.variant))}</td>"
            f"<td>{_fmt(r.control_mean)} (n={int(r.control_units)})</td>"
            f"<td>{_fmt(r.treatment_mean)} (n={int(r.treatment_units)})</td>"
            f"<td>{_fmt(lift, pct=True)}</td>"
            f"<td>[{_fmt(lo, pct=True)}, {_fmt(hi, pct=True)}]</td>"
            f"<td>{_fmt(r.adjusted_p_value, digits=4)}</td></tr>"
        )
    family = int(rows.family_size.max()) if len(rows) else 0
    return (
        f'<p class="sub">Metric <code>{escape(metric)}</code>. The adjusted p-values are '
        f"corrected over all {family} slice tests of the experiment (every dimension, value, "
        "decision metric and variant): a slice is where to look, not what to decide on.</p>"
        f"<table>{head}{''.join(body)}</table>"
    )


def render_experiment_report(card: Scorecard, sequential: bool = False) -> str:
    """The scorecard of one experiment as one self-contained HTML page; ``sequential``:
    the always-valid intervals and p-values (for an experiment read before its planned
    end) instead of the fixed-horizon ones."""
    h = card.health
    exp = card.experiment
    method = str(card.results.correction_method.iloc[0]) if len(card.results) else "holm"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(h.experiment_name)} — experiment scorecard</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{escape(h.experiment_name)}</h1>"
        f'<p class="sub"><code>{escape(h.experiment_id)}</code> · {escape(h.status)} · '
        f"{h.start_at:%Y-%m-%d} → {h.end_at:%Y-%m-%d} · {h.days_running} days running · "
        f"{h.units_analysed} units · owner {escape(str(exp.get('owner', '-')))}</p>"
        f"<p><em>Hypothesis:</em> {escape(str(exp.get('hypothesis', '-')))}</p>"
        "<h2>Health checks</h2>"
        + _health_html(card)
        + "<h2>Relative lift per metric (95% interval)</h2>"
        + forest_plot_svg(card.results, sequential=sequential)
        + '<p class="sub">Points: relative lift (CUPED-adjusted where CUPED applies); lines: 95% '
        + (
            "always-valid confidence sequences (valid at every look: read the experiment "
            "daily and stop when one excludes 0; tuning parameter "
            f"{escape(_tuning(card.results))})"
            if sequential
            else "delta-method intervals (valid at the planned end: peeking at them daily "
            "inflates false positives; see <code>--sequential</code>)"
        )
        + (
            "; green = the sequence excludes 0 (not corrected for the number of metrics)"
            if sequential
            else "; green = significant after correction"
        )
        + "; red = guardrail breached; "
        "shaded rows are guardrails (judged uncorrected).</p>"
        + "<h2>Numbers</h2>"
        + _results_table(card, sequential)
        + "<h2>Over time</h2>"
        + '<p class="sub">The relative lift as it stood at the end of each day since the start '
        "(the units exposed by then, with the events of their windows that had happened by "
        "then), and its 95% "
        + (
            "confidence sequence (valid on every day)."
            if sequential
            else "interval (valid on the last day only: an early day's interval that excludes 0 "
            "is no finding; see <code>--sequential</code>)."
        )
        + " A lift that shrinks over the first weeks is a novelty effect.</p>"
        + _series_html(card, sequential)
        + "<h2>By slice</h2>"
        + _slices_html(card, sequential)
        + "<footer>Each p-value is its effect's own two-sided test, Student's t at the "
        "Welch df; decisions use the "
        f"{escape(_decision_effect(card.results))} effect (CUPED-adjusted where CUPED applies), "
        "adjusted by "
        f"{escape(method.upper() if method == 'bh' else method.capitalize())} "
        "over the non-guardrail metrics x variants. Chance to beat control and risk (the "
        "expected loss of shipping, in lift) are the Bayesian view of the same effect "
        "(Gaussian posterior, as GrowthBook's engine). As of "
        f"{h.as_of_at:%Y-%m-%d %H:%M} (data time, not wall clock). Generated by "
        "<code>dataproducts report experiment</code> from marts.experiment_health, "
        "marts.experiment_results, marts.experiment_daily_results and "
        "marts.experiment_slice_results.</footer></body></html>"
    )


def write_experiment_report(
    experiment_id: str,
    out: str | Path | None = None,
    duckdb_path: str | Path | None = None,
    *,
    client: Client | None = None,
    sequential: bool = False,
) -> Path:
    """Write the scorecard of ``experiment_id`` to ``out`` (default ``<experiment_id>.html``).

    Reads ``client`` (e.g. ``dataproducts.connect()``, the published snapshot) when given,
    else the DuckDB warehouse ``duckdb_path`` (default ``$DATAPRODUCTS_DUCKDB``).
    ``sequential``: the always-valid intervals (see :func:`render_experiment_report`).
    """
    card = (
        client.experiments.scorecard(experiment_id)
        if client is not None
        else scorecard(experiment_id, duckdb_path)
    )
    path = Path(out) if out else Path(f"{experiment_id}.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_experiment_report(card, sequential), encoding="utf-8")
    return path
