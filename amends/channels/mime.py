"""Reading raw RFC 5322 mail: headers, the text a person wrote, attachments, and whether a
machine sent it. Pure functions, no database."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3
from mailparser_reply import EmailReplyParser

REF_IN_SUBJECT = re.compile(r"\bAM-(\d{6,12})\b", re.IGNORECASE)
MSGID = re.compile(r"<[^<>\s]{1,245}>")
THANKS = re.compile(
    r"^\W*(?:many\s+|thank\s+you\s+|)(?:thanks?|thank\s+you|thx|ty|cheers|merci|danke)"
    r"(?:\s+(?:a\s+lot|so\s+much|very\s+much|again|you|for\s+\w+(?:\s+\w+){0,3}))*\W*$",
    re.IGNORECASE,
)
HTML_BREAKS = re.compile(r"(?i)<\s*(?:br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>")
BLANK_RUNS = re.compile(r"\n{3,}")
# Tags kept in the sanitised HTML staff can view (links lose their targets' scripts).
SAFE_TAGS = {"p", "br", "b", "i", "em", "strong", "ul", "ol", "li", "blockquote", "a", "pre"}


class _HeadersParsedOnce(HeaderRegistry):
    """The standard header registry of `policy.default`, remembering what it parsed. The
    email package parses a header again on every read: reading one message (its type once per
    part, its charset, its disposition and file name, the Message-ID twice) parsed
    Content-Type alone five times, most of the parse's time. One per message."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name.lower(), value)
        header = self._parsed.get(key)
        if header is None:
            header = self._parsed[key] = super().__call__(name, value)
        return header


class MailUnparseableError(Exception):
    """The message cannot be read at all; it goes to quarantine."""


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    from_address: str
    from_name: str
    to_address: str
    subject: str
    in_reply_to: str
    references: list[str]
    sent_at: datetime | None
    text: str
    html: str
    attachments: list[Part] = field(default_factory=list)
    automatic: str = ""  # why a machine sent it ("" for a person)
    bounce_recipients: list[str] = field(default_factory=list)
    bounce_message_ids: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        ids = list(self.references)
        if self.in_reply_to and self.in_reply_to not in ids:
            ids.append(self.in_reply_to)
        return ids

    @property
    def subject_ref_pk(self) -> int | None:
        match = REF_IN_SUBJECT.search(self.subject)
        return int(match.group(1)) if match else None


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot decode: keep its raw text
        raw = msg.get_all(name, failobj=[])
        value = raw[0] if raw else None
    if value is None:
        return ""
    return " ".join(str(value).replace("\x00", "").split())


def _ids(value: str) -> list[str]:
    return MSGID.findall(value)


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        text = payload.decode("latin-1", errors="replace")
    return text.replace("\x00", "").replace("\r\n", "\n")


def html_to_text(html: str) -> str:
    marked = HTML_BREAKS.sub("\n", html)
    text = nh3.clean(marked, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    text = html_lib.unescape(text).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def html_sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def new_text_of(text: str, *, sender_name: str = "") -> str:
    """Only what the person wrote this time: quoted history and signature stripped."""
    if not text.strip():
        return ""
    try:
        parsed = EmailReplyParser(languages=["en", "de", "fr", "es", "nl"]).read(text=text)
        reply = parsed.replies[0].body if parsed.replies else text
    except Exception:  # the parser's regexes gave up: keep the whole text
        return text.strip()
    reply = re.split(r"\n-- ?\n", (reply or "").strip())[0].strip()
    reply = _without_name_block(reply, sender_name)
    return reply or text.strip()


def _without_name_block(text: str, sender_name: str) -> str:
    """Drop a closing block of a few short lines that starts with the sender's name."""
    head, _, last = text.rpartition("\n\n")
    lines = last.strip().splitlines()
    if not head.strip() or not sender_name or not 1 <= len(lines) <= 4:
        return text
    if any(len(line) > 60 for line in lines):
        return text
    first = sender_name.split()[0].lower() if sender_name.split() else ""
    if first and lines[0].lower().startswith(first):
        return head.strip()
    return text


def is_bare_thanks(text: str) -> bool:
    first = " ".join(text.split())
    return len(first) <= 80 and bool(THANKS.match(first))


def _automatic(msg: Message, own_address: str, from_address: str) -> str:
    if _header(msg, "X-Amends-Case") or _header(msg, "Message-ID").lower().startswith("<amends."):
        return "own message"
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-reply"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if msg.get(name) is not None:
            return "auto-reply"
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "junk", "auto_reply"):
        return "auto-reply"
    if msg.get_content_type() == "multipart/report":
        return "bounce"
    local = from_address.partition("@")[0].lower()
    if local in ("mailer-daemon", "postmaster") or (_header(msg, "Return-Path") == "<>" and local):
        return "bounce"
    if own_address and from_address.lower() == own_address.lower():
        return "own message"
    return ""


def _bounce_details(msg: Message) -> tuple[list[str], list[str]]:
    recipients: list[str] = []
    message_ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                if not isinstance(block, Message):
                    continue
                action = _header(block, "Action").lower()
                final = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
                if final and action in ("", "failed"):
                    address = final.partition(";")[2].strip() or final
                    recipients.append(address.strip("<> ").lower())
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            inner: Message | None = None
            if part.is_multipart():
                payload = part.get_payload()
                first = payload[0] if isinstance(payload, list) and payload else None
                inner = first if isinstance(first, Message) else None
            else:
                raw = part.get_payload(decode=True)
                if isinstance(raw, bytes):
                    inner = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
            if inner is not None:
                message_ids += _ids(_header(inner, "Message-ID"))
    return recipients, message_ids


def parse(raw: bytes, *, own_address: str, max_attachment: int) -> tuple[ParsedMail, list[str]]:
    """Read one message. Returns the mail and notes about parts we left out."""
    if not raw.strip():
        raise MailUnparseableError("empty message")
    try:
        once = policy.default.clone(header_factory=_HeadersParsedOnce())
        msg = BytesParser(policy=once).parsebytes(raw)
    except Exception as exc:  # pragma: no cover - the parser is lenient; guard anyway
        raise MailUnparseableError(f"cannot parse: {exc}") from exc
    if not msg.keys():
        raise MailUnparseableError("no headers")
    from_header = _header(msg, "From")
    name, address = parseaddr(from_header)
    if not address or "@" not in address:
        raise MailUnparseableError("no sender address")
    try:
        Address(addr_spec=address)
    except Exception as exc:
        raise MailUnparseableError(f"bad sender address {address[:100]!r}") from exc
    to = getaddresses([_header(msg, "To")])
    sent_at: datetime | None = None
    date = _header(msg, "Date")
    if date:
        try:
            sent_at = parsedate_to_datetime(date)
            if sent_at.tzinfo is None:
                sent_at = None
        except (TypeError, ValueError, IndexError, OverflowError):
            sent_at = None
    notes: list[str] = []
    text_parts: list[str] = []
    html_parts: list[str] = []
    attachments: list[Part] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        if disposition == "attachment" or (filename and ctype not in ("text/plain", "text/html")):
            data = part.get_payload(decode=True)
            if not isinstance(data, bytes):
                continue
            clean_name = _safe_filename(filename or "attachment")
            if len(data) > max_attachment:
                notes.append(
                    f"Attachment {clean_name!r} left out: {len(data)} bytes, "
                    f"over the {max_attachment}-byte limit."
                )
                continue
            attachments.append(Part(clean_name, ctype[:100], data))
        elif ctype == "text/plain":
            text_parts.append(_decode(part))
        elif ctype == "text/html":
            html_parts.append(_decode(part))
    html = "\n".join(html_parts)
    text = "\n".join(t for t in text_parts if t.strip()) or (html_to_text(html) if html else "")
    automatic = _automatic(msg, own_address, address)
    bounce_recipients: list[str] = []
    bounce_ids: list[str] = []
    if automatic == "bounce":
        bounce_recipients, bounce_ids = _bounce_details(msg)
    defects = [type(d).__name__ for d in getattr(msg, "defects", [])]
    return (
        ParsedMail(
            message_id=(_ids(_header(msg, "Message-ID")) or [""])[0],
            from_address=address.strip().lower()[:254],
            from_name=name.strip()[:200],
            to_address=(to[0][1] if to else "")[:254],
            subject=_header(msg, "Subject")[:300],
            in_reply_to=(_ids(_header(msg, "In-Reply-To")) or [""])[0],
            references=_ids(_header(msg, "References"))[-50:],
            sent_at=sent_at,
            text=text.strip(),
            html=html_sanitise(html) if html else "",
            attachments=attachments,
            automatic=automatic,
            bounce_recipients=bounce_recipients,
            bounce_message_ids=bounce_ids,
            defects=defects,
        ),
        notes,
    )


def _safe_filename(name: str) -> str:
    name = name.replace("\x00", "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = re.sub(r"[\r\n\t]", " ", name)
    return (name or "attachment")[:200]
