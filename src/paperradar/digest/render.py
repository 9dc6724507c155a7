"""Digests as an HTML email (inline styles only), plain text and Markdown. Pure: text in, text out.

The HTML is a single-column table layout, 640 px wide, with every style inline and no external
images or fonts, so it survives Gmail, Outlook and Apple Mail (which strip <style> blocks and
remote assets). Every piece of paper text is escaped.
"""

from __future__ import annotations

from html import escape

from ..display import author_line, display_text, key_sentences, title_of
from ..models import Paper, paper_date
from .build import Digest, DigestItem

FEEDBACK_LABELS = {"like": "More like this", "dislike": "Less like this", "not_interested": "Not interested"}
LINK_LABELS = {
    "abs": "arXiv",
    "pdf": "PDF",
    "code": "Code",
    "hf": "Hugging Face",
    "doi": "DOI",
    "project": "Project",
    "url": "Page",
}
MAX_AUTHORS = 6
ABSTRACT_CHARS = 320

_FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
_ACCENT = "#2f5fd0"


# the title (cleaned for reading), or the label of an untitled paper: display.title_of
display_title = title_of


def highlights(paper: Paper) -> list[tuple[str, str]]:
    """The paper's key sentences, labelled: [("Idea", ...), ("Result", ...)] (empty when the
    abstract is too short to pick from)."""
    h = key_sentences(paper.abstract)
    return [(label, h[k] or "") for k, label in (("idea", "Idea"), ("result", "Result")) if h[k]]


def authors_line(paper: Paper, limit: int = MAX_AUTHORS) -> str:
    """`display.author_line`, or "authors unknown" (a digest line is never blank)."""
    return author_line(paper, limit) or "authors unknown"


def meta_line(paper: Paper) -> str:
    parts = [p for p in (paper_date(paper), " ".join(paper.categories[:3])) if p]
    return " · ".join(parts)


def short_abstract(paper: Paper, limit: int = ABSTRACT_CHARS) -> str:
    text = " ".join(display_text(paper.abstract).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " …"


def shown_reasons(item: DigestItem) -> list[str]:
    """The reasons worth reading under a paper: its group heading already names its interest."""
    return [r for r in item.reasons if not r.startswith("serves your interest")]


def when(digest: Digest) -> str:
    return digest.generated_at.strftime("%A %-d %B %Y")


# ---------------------------------------------------------------- plain text


def render_text(digest: Digest) -> str:
    lines = [f"paperradar: {digest.title}", when(digest), ""]
    if not digest.items:
        lines.append("Nothing new for this profile since the last digest.")
    n = 0
    for group, items in digest.groups:
        lines += [f"== {group} ==", ""]
        for item in items:
            n += 1
            lines += _text_item(n, item) + [""]
    lines += ["--", f"Sent by paperradar for the profile {digest.profile!r}.", ""]
    return "\n".join(lines)


def _text_item(n: int, item: DigestItem) -> list[str]:
    p = item.paper
    out = [f"{n}. {display_title(p)}", f"   {authors_line(p)}"]
    if meta := meta_line(p):
        out.append(f"   {meta}")
    out += [f"   {label}: {sentence}" for label, sentence in highlights(p)]
    out += [f"   Why: {r}" for r in shown_reasons(item)]
    out += [f"   {LINK_LABELS[k]}: {u}" for k, u in item.links.items() if k in LINK_LABELS]
    out += [f"   {FEEDBACK_LABELS[k]}: {u}" for k, u in item.links.items() if k in FEEDBACK_LABELS]
    return out


# ---------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_[]<>#|" else c for c in text)


def render_markdown(digest: Digest) -> str:
    out = [f"# {_md(digest.title)}", "", f"*{when(digest)}*", ""]
    if not digest.items:
        out += ["Nothing new for this profile since the last digest.", ""]
    for group, items in digest.groups:
        out += [f"## {_md(group)}", ""]
        for item in items:
            out += _md_item(item) + [""]
    return "\n".join(out)


def _md_item(item: DigestItem) -> list[str]:
    p = item.paper
    title = _md(display_title(p))
    head = f"### [{title}]({item.links['abs']})" if "abs" in item.links else f"### {title}"
    out = [head, "", f"{_md(authors_line(p))}  ", f"{_md(meta_line(p))}", ""]
    if key := highlights(p):
        out += [f"**{label}:** {_md(sentence)}  " for label, sentence in key] + [""]
    elif p.abstract:
        out += [f"> {_md(short_abstract(p))}", ""]
    reasons = shown_reasons(item)
    out += [f"- {_md(r)}" for r in reasons]
    links = [f"[{LINK_LABELS[k]}]({u})" for k, u in item.links.items() if k in LINK_LABELS]
    feedback = [f"[{FEEDBACK_LABELS[k]}]({u})" for k, u in item.links.items() if k in FEEDBACK_LABELS]
    return out + ([""] if reasons else []) + [" · ".join(links + feedback)]


# ---------------------------------------------------------------- HTML email


def render_html(digest: Digest) -> str:
    body = "".join(_html_group(group, items) for group, items in digest.groups)
    if not digest.items:
        body = _row(
            '<p style="margin:0;color:#555;font-size:15px;">Nothing new for this profile since the last digest.</p>'
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(digest.title)}</title></head>
<body style="margin:0;padding:0;background:#eef1f6;{_FONT}">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#eef1f6;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="640" cellspacing="0" cellpadding="0" style="width:100%;max-width:640px;background:#ffffff;border-radius:10px;border:1px solid #dde3ee;">
{_html_header(digest)}{body}{_html_footer(digest)}
</table></td></tr></table></body></html>
"""


def _row(inner: str, pad: str = "8px 28px") -> str:
    return f'<tr><td style="padding:{pad};">{inner}</td></tr>\n'


def _html_header(digest: Digest) -> str:
    groups = len(digest.groups)
    sub = (
        f"{len(digest.items)} papers in {groups} interest{'s' if groups != 1 else ''}" if digest.items else ""
    )
    return (
        f'<tr><td style="padding:22px 28px 18px;background:{_ACCENT};border-radius:10px 10px 0 0;">'
        '<div style="font-size:12px;letter-spacing:2px;text-transform:uppercase;color:#d5e0fb;">paperradar digest</div>'
        f'<div style="font-size:22px;font-weight:700;color:#ffffff;margin-top:6px;">{escape(digest.title)}</div>'
        f'<div style="font-size:13px;color:#d5e0fb;margin-top:4px;">{escape(when(digest))}'
        f"{' · ' + sub if sub else ''}</div></td></tr>\n"
    )


def _html_group(group: str, items: list[DigestItem]) -> str:
    head = _row(
        f'<div style="font-size:13px;font-weight:700;color:{_ACCENT};text-transform:uppercase;letter-spacing:1px;'
        f'border-bottom:2px solid #e3e9f6;padding-bottom:6px;">{escape(group)}</div>',
        "22px 28px 4px",
    )
    return head + "".join(_html_item(item) for item in items)


def _button(label: str, url: str, primary: bool = False) -> str:
    colour = (
        f"background:{_ACCENT};color:#ffffff;border:1px solid {_ACCENT};"
        if primary
        else ("background:#ffffff;color:#2b3a55;border:1px solid #c9d3e6;")
    )
    return (
        f'<a href="{escape(url)}" style="display:inline-block;{colour}font-size:12px;font-weight:600;'
        f'text-decoration:none;padding:5px 11px;border-radius:5px;margin:0 6px 6px 0;">{escape(label)}</a>'
    )


def _html_item(item: DigestItem) -> str:
    p = item.paper
    title = escape(display_title(p))
    if "abs" in item.links:
        title = (
            f'<a href="{escape(item.links["abs"])}" style="color:#14213d;text-decoration:none;">{title}</a>'
        )
    reasons = "".join(f'<li style="margin:2px 0;">{escape(r)}</li>' for r in shown_reasons(item))
    links = "".join(_button(LINK_LABELS[k], u, k == "abs") for k, u in item.links.items() if k in LINK_LABELS)
    feedback = " &nbsp;·&nbsp; ".join(
        f'<a href="{escape(u)}" style="color:#5a6a85;text-decoration:underline;">{FEEDBACK_LABELS[k]}</a>'
        for k, u in item.links.items()
        if k in FEEDBACK_LABELS
    )
    return _row(
        f'<div style="font-size:17px;font-weight:700;line-height:1.35;">{title}</div>'
        f'<div style="font-size:13px;color:#4a5568;margin-top:4px;">{escape(authors_line(p))}</div>'
        f'<div style="font-size:12px;color:#7a869a;margin-top:2px;">{escape(meta_line(p))}'
        "</div>"
        + _html_summary(p)
        + (
            f'<ul style="font-size:13px;color:#4a5568;margin:8px 0 0;padding-left:18px;">{reasons}</ul>'
            if reasons
            else ""
        )
        + f'<div style="margin-top:10px;">{links}</div>'
        + (f'<div style="font-size:12px;color:#5a6a85;margin-top:2px;">{feedback}</div>' if feedback else "")
        + '<div style="border-bottom:1px solid #eef1f6;margin-top:14px;"></div>',
        "14px 28px 2px",
    )


def _html_summary(p: Paper) -> str:
    """The idea and result sentences, or the start of the abstract when there are none."""
    style = "font-size:14px;color:#2d3748;line-height:1.5;margin-top:8px;"
    key = highlights(p)
    if not key:
        return f'<div style="{style}">{escape(short_abstract(p))}</div>'
    label = f"font-size:11px;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:{_ACCENT};"
    return "".join(
        f'<div style="{style}"><span style="{label}">{escape(name)}</span> {escape(sentence)}</div>'
        for name, sentence in key
    )


def _html_footer(digest: Digest) -> str:
    return _row(
        '<div style="font-size:12px;color:#8a94a6;line-height:1.5;">'
        f"Sent by paperradar for the profile <b>{escape(digest.profile)}</b>. "
        "Feedback links are signed for this profile and expire; they teach it what to show you next time."
        "</div>",
        "18px 28px 24px",
    )
