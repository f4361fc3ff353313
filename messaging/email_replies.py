"""The answer in an e-mail reply: its text, without the quoted history and the signature.

Mail clients quote in many ways; these rules cover the common ones (Gmail, Apple Mail,
Outlook, Thunderbird, phones) and err on the side of keeping what the person wrote: an
"On … wrote:" line is taken for a quote header only when it has a digit in it (a date),
so "On Monday I wrote: …" in someone's own words stays."""

import re
from email.message import EmailMessage
from html.parser import HTMLParser

from notifications.services import REPLY_MARKER

QUOTE_HEADER = re.compile(
    r"^\s*(on|le|am|el|il|op|em|den|w dniu)\s.{0,300}?"
    r"(wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev|napisał)\s*:?\s*$",
    re.IGNORECASE | re.DOTALL,
)
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$", re.I
)
FORWARD_RULE = re.compile(r"^\s*_{10,}\s*$")
HEADER_LINE = re.compile(r"^\s*\*?(from|von|de|van)\s*:\*?\s", re.IGNORECASE)
SENT_LINE = re.compile(r"^\s*\*?(sent|date|gesendet|envoyé|datum|enviado)\s*:\*?\s", re.IGNORECASE)
SIGNATURE_LINE = re.compile(
    r"^\s*(--\s*|sent from my .{1,40}|sent from outlook.*|get outlook for .{1,30}|"
    r"envoyé de mon .{1,40}|von meinem .{1,40} gesendet|enviado desde mi .{1,40})$",
    re.IGNORECASE,
)


def _is_quote_header(lines: list[str], index: int) -> bool:
    # Clients wrap long attribution lines: "On Mon, 5 Jan 2026 at 10:02, Plural\n<reply+…> wrote:"
    for span in (1, 2, 3):
        candidate = " ".join(line.strip() for line in lines[index : index + span])
        if QUOTE_HEADER.match(candidate) and re.search(r"\d", candidate):
            return True
    return False


def _is_outlook_header(lines: list[str], index: int) -> bool:
    """ "From: …" followed within a few lines by "Sent: …" or "Date: …"."""
    if not HEADER_LINE.match(lines[index]):
        return False
    return any(SENT_LINE.match(line) for line in lines[index + 1 : index + 5])


def strip_quoted_text(text: str) -> str:
    """`text` up to the quoted history or the signature, with quoted (">") lines dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if REPLY_MARKER in line or ORIGINAL_MESSAGE.match(line) or _is_quote_header(lines, index):
            break
        if FORWARD_RULE.match(line) and any(HEADER_LINE.match(later) for later in lines[index + 1 : index + 3]):
            break
        if _is_outlook_header(lines, index) or SIGNATURE_LINE.match(line):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


class _HTMLText(HTMLParser):
    """Text of an HTML mail body, leaving out quotes marked up as such and everything after
    Outlook's reply separator."""

    SKIPPED = {"script", "style", "head", "title", "blockquote"}
    QUOTE_CLASSES = {"gmail_quote", "gmail_attr", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
    STOP_IDS = {"appendonsend", "divrplyfwdmsg"}
    BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"}
    VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "area", "base", "col", "embed", "source", "track"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag, attrs):
        if self.stopped:
            return
        attributes = dict(attrs)
        if (attributes.get("id") or "").lower() in self.STOP_IDS:
            self.stopped = True
            return
        if tag in self.VOID:
            if not self.skip_depth and tag in {"br", "hr"}:
                self.parts.append("\n")
            return
        if self.skip_depth:
            self.skip_depth += 1
            return
        classes = set((attributes.get("class") or "").split())
        if tag in self.SKIPPED or classes & self.QUOTE_CLASSES:
            self.skip_depth = 1
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if self.stopped or tag in self.VOID:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if tag in self.BLOCKS and tag != "li":  # list items start a line; ending one adds no blank line
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.stopped and not self.skip_depth:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return parser.text()


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or wrong charset: keep what decodes
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def reply_text(message: EmailMessage) -> str:
    """The answer written in `message` (parsed with email.policy.default): its plain-text
    part, or its HTML part turned into text, without quoted history or signature."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _part_text(body)
    if body.get_content_type() == "text/html":
        text = html_to_text(text)
    return strip_quoted_text(text)


def is_automatic(message: EmailMessage) -> bool:
    """Out-of-office answers and other mail no person wrote (RFC 3834)."""
    auto_submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    return (
        auto_submitted != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or any(message.get(header) for header in ("X-Autoreply", "X-Autorespond"))
    )
