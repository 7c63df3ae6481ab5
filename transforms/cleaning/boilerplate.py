"""Remove web boilerplate (comment forms, share/subscribe/donate lines,
republication trailers, cookie notices) from a story body.

Lines are classified independently into three kinds:

* ``ISOLATED`` - a short line that is never story text wherever it appears
  ("Share this:", "Click to share on Twitter (Opens in new window)",
  "Subscribe to our newsletter", "Read more: ...", "Continue reading"); removed
  anywhere, and a "Continue reading"/"Read more" link glued to the end of
  the last sentence is cut too.
* ``STRONG`` - a trailer *marker* ("Leave a Reply", "Creative Commons / ... /
  Report a typo", "Since you're here..."): when it appears after the first
  third of the text, it and everything after it are cut, because what follows
  a marker (avatars, reader comments, related links) does not look like
  boilerplate line by line.
* ``WEAK`` - boilerplate that only counts at the end ("Log Out / Change )",
  "Tags: ...", donation appeal paragraphs); a trailing run is cut.

Patterns are anchored to the whole line (or its start) and kept to phrase
families, so a story sentence that merely mentions "support" or "share"
("The party said it would support the bill.") never matches. Longer
paragraphs only qualify via phrases that address the reader ("we", "you")
and contain no quotation.
"""

from __future__ import annotations

import re

from .text import normalize_text

__all__ = ["strip_boilerplate", "classify_line", "ISOLATED", "STRONG", "WEAK"]

ISOLATED = "isolated"
STRONG = "strong"
WEAK = "weak"

# A strong marker only cuts when this fraction of the text precedes it.
_STRONG_MIN_POSITION = 1 / 3
# Full-line patterns apply to lines up to this long; a long paragraph is story.
_MAX_SHORT_LINE = 300
_MAX_PASSES = 8


def _full(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_NETWORK = (
    r"(?:facebook|twitter|whatsapp|e-?mail|linkedin|reddit|telegram|"
    r"pinterest|print|share|tweet|messenger|copy link|sms|flipboard|pocket|tumblr)"
)

#: The words of a link to the rest of a story, with an optional "of this
#: story" and "at/on <site>" tail and trailing dots, ellipsis or arrows.
_FULL_STORY_LINK = (
    r"(?:\[?(?:\.\.\.|\u2026)\]?\s*)?"
    r"(?:read more|continue reading|keep reading|read (?:the )?(?:full|rest of the|whole|entire) "
    r"(?:story|article|post|report)|(?:read (?:the )?)?full (?:story|article)|click here to read more)"
    r"(?: (?:of|about) (?:this|the) (?:story|article|post))?"
    r"(?: (?:at|on|in|from|via) [^.!?\n]{1,100}?)?"
    r"\s*(?:\.{1,3}|\u2026|[\u00bb>\u2192]+|\[(?:\.\.\.|\u2026)\])?"
)

_STRONG_FULL = _full(
    # comment sections
    r"leave a (?:reply|comment)(?: cancel reply)?",
    r"(?:post|add|write|submit) (?:a|your) comment",
    r"join the (?:discussion|conversation)",
    r"(?:\d+ )?comments?(?: \(\d+\))?",
    r"comments are closed\.?",
    r"(?:show|view|load|read) (?:all )?(?:\d+ )?comments",
    r"\d+ (?:thoughts|responses|replies|comments) (?:on|to) .{1,200}",
    # related-content blocks
    r"related(?: articles| posts| stories| content| coverage)?:?",
    r"you (?:may|might) also (?:like|be interested in):?",
    # donation appeal openers
    r"\W*since you(?:'re| are) here\W*",
    # republication / licensing trailers
    r"creative commons\b.{0,150}",
    r".{0,150}/ report a typo",
    r"report a typo",
    r"stored safely on blockchain",
)
_STRONG_PREFIX = _full(
    r"this (?:article|story|post|piece) (?:was|has been) chosen for republication\b",
    r"this (?:post|article) (?:is|was) published to lbry\b",
    r"\W*we have a small favou?r to ask\b",
    r"fill in your details below or click an icon to log in\b",
    r"your email address will not be published\b",
    r"you must be (?:logged in|registered) to post a comment\b",
)
_ISOLATED_FULL = _full(
    # share widgets
    rf"{_NETWORK}(?: (?:this|it))?(?: (?:article|story|post|page|link|to a friend))?"
    r"(?: (?:on|via|to|with) [\w.+ ]{1,30})?(?: \(opens in (?:a )?new window\))?:?",
    r"click (?:here )?to (?:share|e-?mail|print|tweet|pin)\b.{0,100}",
    r".{0,100}\(opens in (?:a )?new window\)",
    rf"(?:{_NETWORK}[\s|/,.\u00b7\u2022]*){{2,12}}",
    r"like this:?",
    r"like loading\.*",
    r"loading\.\.\.",
    # subscribe / newsletter / follow
    r"subscribe(?: (?:now|today|here|for free))?[.!]?",
    r"subscribe (?:to|for) (?:our|the|my)\b.{0,80}"
    r"\b(?:newsletter|channel|podcast|updates|mailing list|feed|alerts|briefing|digest)\b.{0,80}",
    r"sign up (?:for|to)\b.{0,100}\b(?:newsletters?|e-?mails?|alerts?|updates|briefing|digest|bulletin)\b.{0,80}",
    r"sign up (?:here|now|today|for free)\b.{0,80}",
    r"(?:get|receive) (?:our|the)\b.{0,60}\bnewsletter\b.{0,80}",
    r"join (?:our|the) (?:mailing list|newsletter)\b.{0,80}",
    r"follow us on .{1,80}",
    # read-more / related links
    r"(?:read more|read also|also read|see also|continue reading|keep reading|"
    r"read the (?:full|rest of the|whole) (?:story|article|post)|more on this(?: story| topic)?|"
    r"related(?: articles?| posts?| stories| content| coverage| news| reading)?|"
    r"recommended(?: for you)?|further reading|trending(?: now)?|most (?:popular|read))"
    r"\s*(?:[:\u00bb>|]\s*.{0,200})?",
    # donation buttons
    r"(?:donate|contribute)(?: now| today| here)?[.!]?",
    r"(?:please )?support (?:us|our (?:work|journalism|reporting))[.!]?",
    r"click here to (?:support|donate)\b.{0,80}",
    r"become a (?:patron|member|supporter)\b.{0,80}",
    # cookie banners and ad slots
    r".{0,200}\b(?:we use cookies|this (?:web)?site uses cookies|accept (?:all )?cookies|"
    r"cookie (?:settings|preferences|consent))\b.{0,300}",
    r"advertisements?|advertisement - (?:continue|scroll)\b.{0,40}|report this ad",
)
_WEAK_FULL = _full(
    # WordPress comment form remains
    r"you are commenting using your\b.{0,80}",
    r"log ?out ?/ ?change\s*\)?",
    r"connecting to %s",
    r"notify me of (?:new|follow-up) (?:comments|posts)\b.{0,80}",
    r"(?:google|twitter|facebook|wordpress\.com) (?:photo|picture|account)",
    r"cancel reply|post comment|log in to reply|reply|logo",
    r"save my name, email, and website\b.{0,100}",
    r"(?:name|email|website|comment)\s*\*?",
    r"required fields are marked.{0,20}",
    # page furniture
    r"sponsored(?: content)?|privacy policy|terms (?:of (?:use|service)|and conditions)",
    r"(?:tags?|filed under|categories|posted in|topics?):? .{1,200}",
    # syndication / licensing notes
    r"our standards: the thomson reuters trust principles\.?",
    r"the views expressed in this (?:article|post|piece) are .{0,200}",
    r"this (?:article|story|piece) (?:was )?(?:originally )?(?:published|appeared) (?:on|in|at|by) .{1,200}",
    r"this (?:article|story) is republished from .{1,300}",
    # WordPress feed footer: "The post <title> appeared first on <site>."
    r"the post .{1,300}? appeared first on (?:(?!\. ).){1,120}",
    r"try lbry\b.{0,200}",
    # a feed's trailing link to the full story: "Read more...", "Continue
    # reading on Example News", "Read more of this story at Slashdot."
    rf"{_FULL_STORY_LINK}",
    r"republish this (?:article|story)\b.{0,100}",
)
# Donation appeals as prose: only paragraphs that address the reader.
_APPEAL_PHRASE = re.compile(
    r"\b(?:click here to (?:support|donate)|become a (?:patron|member|supporter|subscriber)|"
    r"(?:support|fund|donate to) (?:us|our (?:independent )?(?:journalism|work|reporting|mission|newsroom))\b|"
    r"make a (?:one-(?:off|time) |monthly |small )?(?:donation|contribution)|"
    r"(?:donate|contribute) (?:now|today|here)|patreon\.com|paypal\.me|"
    r"for as little as \$\d|small favou?r to ask|"
    r"subscribe (?:today|now|here) for (?:just|only|as little as) \$\d)",
    re.IGNORECASE,
)
_READER_ADDRESS = re.compile(r"\b(?:we|our|us|you|your)\b", re.IGNORECASE)
# A "Continue reading" link glued to the end of the last sentence of a feed
# excerpt ("... in the job. Continue reading »"). Only after a sentence end,
# so "urged readers to keep reading" stays.
_READ_MORE_TAIL = re.compile(
    r"(?<=[.!?\"')\]\u2026])[ \t]+(?:\[?(?:\.\.\.|\u2026)\]?[ \t]*)?"
    r"(?:continue reading|read more|keep reading|read the (?:full|rest of the|whole) (?:story|article|post))"
    r"(?: (?:of|about) (?:this|the) (?:story|article|post))?(?: (?:at|on) [^.!?\n]{1,80}?)?"
    r"(?:[ \t]*(?:[\"\u00bb>\u2192.\u2026]|-+>?))*[ \t]*$",
    re.IGNORECASE,
)
_EDGE_DECORATION = re.compile(r"^[\s*\u2022\u00b7|>\u00bb-]+|[\s*\u2022\u00b7|<\u00ab-]+$")


def classify_line(line: str) -> str | None:
    """Return STRONG, ISOLATED, WEAK or None (story text) for one line."""
    key = _EDGE_DECORATION.sub("", line)
    if not key:
        return None
    if _STRONG_PREFIX.match(key):
        return STRONG
    if len(key) <= _MAX_SHORT_LINE:
        if _STRONG_FULL.fullmatch(key):
            return STRONG
        if '"' not in key and _ISOLATED_FULL.fullmatch(key):
            return ISOLATED
        if _WEAK_FULL.fullmatch(key):
            return WEAK
    elif len(key) <= 600 and '"' not in key and _ISOLATED_FULL.fullmatch(key):
        return ISOLATED  # long cookie banners
    if '"' not in key and _APPEAL_PHRASE.search(key) and _READER_ADDRESS.search(key):
        return WEAK
    return None


def _units(text: str) -> list[tuple[str, bool]]:
    """Lines of ``text`` with a flag: does a paragraph break precede it?"""
    units: list[tuple[str, bool]] = []
    for p_index, para in enumerate(text.split("\n\n")):
        for l_index, line in enumerate(para.split("\n")):
            units.append((line, l_index == 0 and p_index > 0))
    return units


def _join(units: list[tuple[str, bool]], keep: list[bool]) -> str:
    """Rebuild text from kept lines, keeping a paragraph break where any
    dropped stretch contained one."""
    out: list[str] = []
    pending_break = False
    for (line, para_start), kept in zip(units, keep):
        pending_break = pending_break or para_start
        if not kept:
            continue
        if out:
            out.append("\n\n" if pending_break else "\n")
        out.append(line)
        pending_break = False
    return "".join(out)


def _is_isolated_shape(line: str) -> bool:
    """Short link-like lines ("Related", "Share this:") go wherever they are,
    even when they are also trailer markers."""
    key = _EDGE_DECORATION.sub("", line)
    return len(key) <= _MAX_SHORT_LINE and '"' not in key and bool(_ISOLATED_FULL.fullmatch(key))


def _strip_once(text: str) -> str:
    text = _READ_MORE_TAIL.sub("", text)
    units = _units(text)
    kinds = [classify_line(line) for line, _ in units]
    keep = [
        kind is None or kind == WEAK or (kind == STRONG and not _is_isolated_shape(line))
        for (line, _), kind in zip(units, kinds)
    ]

    # Strong marker in the last two thirds (measured over kept lines):
    # cut it and everything after.
    total = sum(len(line) + 1 for (line, _), k in zip(units, keep) if k)
    offset = 0
    seen_story = False
    for i, ((line, _), kind) in enumerate(zip(units, kinds)):
        if kind == STRONG and seen_story and offset >= total * _STRONG_MIN_POSITION:
            for j in range(i, len(units)):
                keep[j] = False
            break
        if keep[i]:
            seen_story = seen_story or kind is None
            offset += len(line) + 1

    # Trailing run of boilerplate of any kind.
    for i in range(len(units) - 1, -1, -1):
        if not keep[i]:
            continue
        if kinds[i] is None:
            break
        keep[i] = False

    # Never remove a story's only text: when no story line would remain, a
    # dropped paragraph loses only its boilerplate sentences.
    if not any(k and kind is None for k, kind in zip(keep, kinds)):
        rescued = [(_story_sentences(line) if not k else line, start)
                   for (line, start), k in zip(units, keep)]
        if any(line for (line, _), k in zip(rescued, keep) if not k):
            keep = [k or bool(line) for (line, _), k in zip(rescued, keep)]
            return _join(rescued, keep)
    return _join(units, keep)


#: Sentence ends inside a paragraph: after . ! ? (and a closing quote or
#: bracket), before the capital or digit that starts the next sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<![A-Z]\.)[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")


def _is_boilerplate_sentence(sentence: str) -> bool:
    key = _EDGE_DECORATION.sub("", sentence)
    return classify_line(sentence) is not None or bool(
        _APPEAL_PHRASE.search(key) and _READER_ADDRESS.search(key))


def _story_sentences(line: str) -> str:
    """The sentences of a dropped line that are not themselves boilerplate."""
    cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(line)] + [len(line)]
    sentences = [line[a:b].strip() for a, b in zip(cuts, cuts[1:])]
    return " ".join(s for s in sentences if s and not _is_boilerplate_sentence(s))


def strip_boilerplate(text: str) -> str:
    """Remove web boilerplate from a story body; returns normalized text.

    Applied until nothing changes (cutting a trailer shortens the text, which
    can move an earlier marker past the one-third point), which makes the
    function idempotent; the number of passes is tiny in practice and capped.
    """
    text = normalize_text(text)
    for _ in range(_MAX_PASSES):
        stripped = normalize_text(_strip_once(text))
        if stripped == text:
            break
        text = stripped
    return text
