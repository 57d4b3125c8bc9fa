"""Small inline SVG charts for the HTML report (no scripts, no external files)."""

from __future__ import annotations

import html


def scatter_svg(
    points: list[dict],
    x_label: str,
    y_label: str,
    title: str,
    width: int = 640,
    height: int = 380,
    quadrants: tuple[float, float] | None = None,
) -> str:
    """A labelled scatter: each point has ``x``, ``y``, ``label`` and optionally ``size`` (a
    relative bubble area), ``y_low``/``y_high`` (a vertical range) and ``color``. ``quadrants``
    draws dividing lines at (x, y)."""
    if not points:
        return ""
    pad_l, pad_r, pad_t, pad_b = 70, 20, 30, 45
    xs = [p["x"] for p in points]
    ys = [v for p in points for v in (p["y"], p.get("y_low", p["y"]), p.get("y_high", p["y"]))]
    if quadrants:
        xs.append(quadrants[0])
        ys.append(quadrants[1])
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    mx, my = (x1 - x0) * 0.08, (y1 - y0) * 0.08
    x0, x1, y0, y1 = x0 - mx, x1 + mx, y0 - my, y1 + my

    def sx(v: float) -> float:
        return pad_l + (v - x0) / (x1 - x0) * (width - pad_l - pad_r)

    def sy(v: float) -> float:
        return height - pad_b - (v - y0) / (y1 - y0) * (height - pad_t - pad_b)

    out = [
        f'<svg role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{pad_l}" y="18" font-size="13" font-weight="bold">{html.escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" '
        'stroke="#888"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#888"/>',
        f'<text x="{(pad_l + width - pad_r) / 2}" y="{height - 8}" font-size="12" '
        f'text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text x="14" y="{(pad_t + height - pad_b) / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {(pad_t + height - pad_b) / 2})">{html.escape(y_label)}</text>',
    ]
    for v in (x0 + mx, x1 - mx):
        out.append(
            f'<text x="{sx(v):.1f}" y="{height - pad_b + 14}" font-size="10" '
            f'text-anchor="middle">{v:,.0f}</text>'
        )
    for v in (y0 + my, y1 - my):
        out.append(
            f'<text x="{pad_l - 4}" y="{sy(v):.1f}" font-size="10" text-anchor="end">{v:,.0f}</text>'
        )
    if quadrants:
        qx, qy = sx(quadrants[0]), sy(quadrants[1])
        out.append(
            f'<line x1="{qx:.1f}" y1="{pad_t}" x2="{qx:.1f}" y2="{height - pad_b}" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<line x1="{pad_l}" y1="{qy:.1f}" x2="{width - pad_r}" y2="{qy:.1f}" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    biggest = max((p.get("size", 1) for p in points), default=1) or 1
    for p in points:
        cx, cy = sx(p["x"]), sy(p["y"])
        r = 4 + 12 * (p.get("size", 1) / biggest) ** 0.5
        color = p.get("color", "#2a6f97")
        if "y_low" in p and "y_high" in p:
            out.append(
                f'<line x1="{cx:.1f}" y1="{sy(p["y_low"]):.1f}" x2="{cx:.1f}" '
                f'y2="{sy(p["y_high"]):.1f}" stroke="{color}" stroke-width="2" opacity="0.6"/>'
            )
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{color}" opacity="0.75">'
            f"<title>{html.escape(p['label'])}</title></circle>"
        )
        out.append(
            f'<text x="{cx + r + 3:.1f}" y="{cy + 4:.1f}" font-size="11">'
            f"{html.escape(p['label'])}</text>"
        )
    out.append("</svg>")
    return "".join(out)
