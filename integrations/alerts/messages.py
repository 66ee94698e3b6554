"""The words and the payloads of chat alerts (pure: no database, no network).

Slack: an incoming-webhook JSON body with `text` (the notification's words) and `blocks` (mrkdwn sections, links
written `<url|Account name>`, a person mentioned `<@U024BE7LH>` when their Slack member ID is known).
Microsoft Teams: an Adaptive Card in the `attachments` envelope that Teams' incoming webhooks (and Workflows'
"post to a channel when a webhook request is received") take; links are markdown `[Account name](url)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SLACK, TEAMS = "slack", "teams"
MAX_ACCOUNTS_PER_LINE = 25  # a digest line names this many accounts, then says how many more
MAX_LINES = 40  # Slack takes 50 blocks per message; Teams cards stay readable


@dataclass(frozen=True)
class Item:
    """One alert to put into words: its kind, its account and the people it tells."""

    kind: str  # mqa, breach, surge
    account_name: str
    url: str  # absolute address of the account page
    people: Sequence[dict] = field(default_factory=tuple)  # {"name": ..., "slack_user_id": ...}


@dataclass(frozen=True)
class Style:
    link: Callable[[str, str], str]
    person: Callable[[dict], str]
    escape: Callable[[str], str]


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_person(person: dict) -> str:
    member = (person.get("slack_user_id") or "").strip()
    return f"<@{member}>" if member else _slack_escape(person.get("name") or "someone")


def _teams_escape(text: str) -> str:
    for char in "\\*_[]`<>#":
        text = text.replace(char, "\\" + char)
    return text


STYLES = {
    SLACK: Style(link=lambda url, name: f"<{url}|{_slack_escape(name)}>", person=_slack_person, escape=_slack_escape),
    TEAMS: Style(
        link=lambda url, name: f"[{_teams_escape(name)}]({url})",
        person=lambda person: f"**{_teams_escape(person.get('name') or 'someone')}**",
        escape=_teams_escape,
    ),
}


def _names(people: Sequence[dict], style: Style) -> str:
    told = [style.person(p) for p in people]
    if len(told) <= 1:
        return "".join(told)
    return ", ".join(told[:-1]) + " and " + told[-1]


def sentence(item: Item, style: Style) -> str:
    """One alert as one line."""
    link, who = style.link(item.url, item.account_name), _names(item.people, style)
    if item.kind == "mqa":
        return f"New MQA for {who}: {link}" if who else f"New MQA, not yet assigned: {link}"
    if item.kind == "breach":
        if who:
            return f"SLA breached on {link}: {who}, the handoff is waiting for a decision."
        return f"SLA breached on {link}: the territory has no manager to tell."
    return f"Signal surge on {link}, owned by {who}." if who else f"Signal surge on {link} (no owner)."


WHAT = {"mqa": ("new MQA", "new MQAs"), "breach": ("SLA breach", "SLA breaches"), "surge": ("surge", "surges")}


def digest_lines(items: Sequence[Item], style: Style) -> list[str]:
    """Alerts grouped by kind and person, in the order they came: "3 new MQAs for Dana: Acme, Globex, Initech"."""
    groups: dict[tuple, list[Item]] = {}
    for item in items:
        key = (item.kind, tuple((p.get("user_id"), p.get("name")) for p in item.people))
        groups.setdefault(key, []).append(item)
    lines = []
    for (kind, _), group in groups.items():
        one, many = WHAT[kind]
        who = _names(group[0].people, style)
        head = f"{len(group)} {one if len(group) == 1 else many}" + (f" for {who}" if who else "")
        links = [style.link(i.url, i.account_name) for i in group[:MAX_ACCOUNTS_PER_LINE]]
        more = len(group) - MAX_ACCOUNTS_PER_LINE
        lines.append(f"{head}: {', '.join(links)}" + (f" and {more} more" if more > 0 else ""))
    if len(lines) > MAX_LINES:
        rest = sum(1 for _ in lines[MAX_LINES - 1 :])
        lines = [*lines[: MAX_LINES - 1], f"… and {rest} more groups of alerts"]
    return lines


def digest_heading(count: int, minutes: int) -> str:
    span = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{count} alert{'s' if count != 1 else ''} in the last {span}:"


def payload(kind: str, items: Sequence[Item], *, minutes: int = 5) -> dict:
    """The body to post to a channel of `kind`: one alert as a sentence, several as a digest."""
    style = STYLES[kind]
    if len(items) == 1:
        heading, lines = None, [sentence(items[0], style)]
    else:
        heading, lines = digest_heading(len(items), minutes), digest_lines(items, style)
    if kind == SLACK:
        text = "\n".join([heading, *lines] if heading else lines)
        blocks = []
        if heading:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": heading}})
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line[:3000]}} for line in lines]
        return {"text": text[:3000] if len(text) <= 3000 else text[:2990] + "…", "blocks": blocks}
    body = []
    if heading:
        body.append({"type": "TextBlock", "text": heading, "weight": "Bolder", "wrap": True})
    body += [{"type": "TextBlock", "text": line, "wrap": True} for line in lines]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if len(items) == 1:
        card["actions"] = [{"type": "Action.OpenUrl", "title": f"Open {items[0].account_name}", "url": items[0].url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def trial_payload(kind: str, channel_name: str) -> dict:
    """The "Send test message" body: says where it came from and that alerts will follow."""
    words = f"Test message from RevOps scoring: alerts for {channel_name} will be posted here."
    if kind == SLACK:
        return {
            "text": words,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(words)}}],
        }
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": _teams_escape(words), "wrap": True}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }
