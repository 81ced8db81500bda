"""The built-in emotion and intent scorer: VADER's lexicon plus rules that matter in complaints.

Pure functions, no database: `text_analyse(text)` returns a `TextAnalysis`. VADER (MIT licence,
its lexicon ships inside the wheel) gives the base valence; the complaint rules add what a
general-purpose lexicon misses: words that name a service failure ("delayed", "stranded", "on
hold"), shouting (capitals, "!!!"), intensifiers, repetition ("third time", "still not fixed"),
churn intent and escalation threats. Every rule that fires reports the phrase that fired it, so
staff can see why a message was flagged.

A trained model (see `amends.insight.ml`) can replace the upset decision and intensity; the
rules for churn, escalation, repetition and the phrases always run, because they are what staff
read.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SCORER_VERSION = "rules-1"

# Long text is cut before scoring so that time stays bounded: the start of a complaint carries
# the upset, and the end often carries the threat ("... or I go to the ombudsman").
MAX_SCORED_CHARS = 4000
TAIL_CHARS = 1000
# Fewer letters than this and nothing sensible can be said about the text.
MIN_LETTERS = 3

# Domain valence for VADER: words that name a service failure carry negative weight in a
# complaint even though they are neutral in general English ("hold", "waiting", "refund").
# "help" and "please" are requests in a complaint, not praise.
COMPLAINT_LEXICON: dict[str, float] = {
    "delayed": -1.6,
    "delay": -1.4,
    "delays": -1.4,
    "late": -1.2,
    "later": -0.3,
    "cancelled": -1.8,
    "canceled": -1.8,
    "cancellation": -1.4,
    "cancellations": -1.4,
    "stranded": -2.2,
    "stuck": -1.6,
    "waiting": -1.1,
    "waited": -1.2,
    "wait": -0.8,
    "hold": -0.9,
    "queue": -0.6,
    "lost": -1.6,
    "missing": -1.4,
    "missed": -1.4,
    "misplaced": -1.6,
    "damaged": -1.8,
    "broken": -2.1,
    "overbooked": -1.8,
    "oversold": -1.6,
    "refund": -0.8,
    "rebook": -0.8,
    "rebooked": -0.8,
    "compensation": -0.6,
    "complaint": -1.2,
    "complain": -1.2,
    "nobody": -1.0,
    "never": -0.6,
    "again": -0.3,
    "still": -0.6,
    "hours": -0.5,
    "hrs": -0.5,
    "unable": -1.2,
    "cant": -0.8,
    "can't": -0.8,
    "won't": -0.4,
    "didn't": -0.4,
    "doesn't": -0.4,
    "isn't": -0.3,
    "error": -1.4,
    "outage": -1.8,
    "disconnected": -1.6,
    "overcharged": -2.0,
    "charged": -0.6,
    "fee": -0.6,
    "fees": -0.6,
    "wrong": -1.5,
    "incorrect": -1.4,
    "ignored": -1.8,
    "unhelpful": -2.0,
    "useless": -2.2,
    "joke": -1.4,
    "pathetic": -2.4,
    "incompetent": -2.4,
    "help": 0.0,
    "please": 0.0,
    "pls": 0.0,
    "plz": 0.0,
    "thx": 1.5,
}

_WS = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]{0,500}>")
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_SHOUT_WORD = re.compile(r"\b[A-Z][A-Z']{2,}\b")
_WORD = re.compile(r"\b[A-Za-z][A-Za-z']{2,}\b")
_PUNCT = re.compile(r"[!?]{2,}|!\s*!|\?\s*\?")


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


CHURN = _rx(
    r"cancel(?:l?ing)?\s+(?:my|our|the)\s+(?:account|contract|subscription|service|membership|"
    r"policy|plan|card|order|booking|line)",
    r"clos(?:e|ing)\s+(?:my|our)\s+(?:account|accounts|card)",
    r"switch(?:ing)?\s+(?:to\s+(?:another|a\s+different|a\s+new)|providers?|suppliers?|banks?|"
    r"carriers?|networks?|airlines?|compan(?:y|ies))",
    r"(?:change|changing)\s+(?:providers?|suppliers?|banks?|carriers?|networks?|airlines?)",
    r"(?:leave|leaving|left)\s+(?:you|your\s+(?:company|bank|service|network))",
    r"tak(?:e|ing)\s+my\s+(?:business|money|custom)\s+elsewhere",
    r"go(?:ing)?\s+(?:somewhere\s+)?elsewhere",
    r"never\s+(?:again|(?:be\s+)?(?:use|using|fly|flying|buy|buying|shop|shopping|book|booking)"
    r"\s+(?:with\s+)?(?:you|your|this|again))",
    r"last\s+time\s+i\s+(?:use|fly|buy|shop|book)",
    r"my\s+contract\s+(?:ends|is\s+up|expires|runs\s+out|is\s+ending|is\s+due)",
    r"(?:find|found|look(?:ing)?\s+for)\s+(?:another|a\s+new|a\s+different)\s+"
    r"(?:provider|supplier|bank|airline|company|carrier|network)",
    r"port(?:ing)?\s+my\s+number",
    r"(?:no\s+longer|not\s+going\s+to)\s+(?:be\s+)?(?:a\s+)?(?:customer|use\s+you|fly\s+with\s+you)",
    r"terminat(?:e|ing)\s+(?:my|the|our)\s+(?:contract|account|service)",
)

ESCALATION = _rx(
    r"ombudsman",
    r"regulators?",
    r"(?:my|a|the)\s+(?:lawyers?|attorneys?|solicitors?)",
    r"legal\s+action",
    r"(?:sue|suing)\s+(?:you|your|the\s+company)",
    r"small\s+claims",
    r"(?:see\s+you\s+in|take\s+(?:you|this|it)\s+to)\s+court",
    r"(?:go(?:ing)?|went)\s+to\s+the\s+(?:press|papers|media|newspapers?)",
    r"(?:contact|contacting|tell|telling|call|calling)\s+(?:the\s+)?(?:press|media|newspapers?|"
    r"journalists?|reporters?)",
    r"(?:post|posting|share|sharing|put|putting)\s+(?:this|it)\s+(?:all\s+)?(?:on|over)\s+"
    r"(?:social\s+media|twitter|facebook|instagram|tiktok|reddit|youtube)",
    r"social\s+media",
    r"(?:leave|leaving|write|writing)\s+(?:a\s+)?(?:bad|terrible|negative|1[- ]star|one[- ]star)"
    r"\s+reviews?",
    r"(?:report|reporting)\s+(?:you|this|it)\s+to",
    r"(?:file|filing|lodge|lodging|make|making)\s+a\s+(?:formal\s+)?complaint\s+with",
    r"better\s+business\s+bureau",
    r"trading\s+standards",
    r"(?:ofcom|ofgem|ofwat|fca|cfpb|ftc|fcc|attorney\s+general)",
)

REPEAT = _rx(
    r"(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time",
    r"(?:2nd|3rd|4th|5th)\s+time",
    r"(?:two|three|four|five|several|many|multiple|countless)\s+times",
    r"still\s+(?:not|no|nothing|hasn't|haven't|isn't|doesn't|don't|can't|waiting|broken|"
    r"down|unresolved|wrong)",
    r"not\s+(?:been\s+)?fixed\s+yet",
    r"(?:yet|once)\s+again",
    r"again\s+and\s+again",
    r"every\s+(?:single\s+)?time",
    r"keeps?\s+(?:happening|breaking|failing|dropping|going\s+down)",
    r"how\s+many\s+(?:more\s+)?times",
    r"same\s+(?:problem|issue|thing)\s+(?:again|as\s+before)",
)

INTENSIFIER = _rx(
    r"absolutely",
    r"completely",
    r"totally",
    r"utterly",
    r"extremely",
    r"incredibly",
    r"seriously",
    r"beyond",
    r"so\s+(?:angry|frustrated|upset|annoyed|disappointed|fed\s+up)",
    r"sick\s+(?:and\s+tired|of)",
    r"fed\s+up",
    r"had\s+enough",
    r"enough\s+is\s+enough",
    r"worst",
    r"ever",
)

EMOTIONS: dict[str, re.Pattern[str]] = {
    "anger": _rx(
        r"angry",
        r"anger",
        r"furious",
        r"livid",
        r"outraged?",
        r"outrageous",
        r"disgust(?:ed|ing)?",
        r"unacceptable",
        r"ridiculous",
        r"rude(?:ness)?",
        r"appalled",
        r"appalling",
        r"disgrace(?:ful)?",
        r"shameful",
        r"pissed",
        r"hate",
        r"scam",
        r"ripped\s+off",
        r"rip[- ]off",
        r"incompetent",
        r"pathetic",
        r"insult(?:ed|ing)",
    ),
    "frustration": _rx(
        r"frustrat(?:ed|ing|ion)",
        r"annoy(?:ed|ing)",
        r"fed\s+up",
        r"sick\s+(?:and\s+tired|of)",
        r"waste\s+of\s+(?:my\s+)?time",
        r"wast(?:ed|ing)\s+(?:my\s+)?(?:time|hours|day)",
        r"on\s+hold",
        r"no\s+(?:one|body)\s+(?:answers|replies|responds|helps|called|calls|got\s+back)",
        r"nobody",
        r"no\s+(?:response|reply|answer|help)",
        r"hours?\s+(?:on\s+the\s+phone|waiting|late|delay(?:ed)?)",
        r"(?:waiting|waited)\s+(?:for\s+)?(?:\d+|hours|days|weeks|months)",
        r"useless",
        r"had\s+enough",
    ),
    "anxiety": _rx(
        r"worried",
        r"worry(?:ing)?",
        r"anxious",
        r"anxiety",
        r"scared",
        r"afraid",
        r"panic(?:king)?",
        r"stress(?:ed|ful)?",
        r"nervous",
        r"desperate(?:ly)?",
        r"urgent(?:ly)?",
        r"emergency",
        r"can't\s+afford",
        r"cannot\s+afford",
        r"losing\s+my\s+(?:home|house|job)",
        r"foreclos(?:e|ure)",
    ),
    "disappointment": _rx(
        r"disappoint(?:ed|ing|ment)",
        r"let\s+(?:me\s+)?down",
        r"expected\s+(?:better|more)",
        r"shame",
        r"sad(?:ly|dened)?",
        r"unhappy",
        r"not\s+happy",
        r"dissatisfied",
        r"poor\s+(?:service|customer\s+service|experience)",
    ),
}

# How much each complaint signal adds to the intensity (0-1) on top of VADER's negativity.
WEIGHTS = {
    "capitals": 0.15,
    "punctuation": 0.1,
    "intensifier": 0.08,
    "repeat": 0.2,
    "churn_intent": 0.25,
    "escalation_threat": 0.25,
    "emotion": 0.1,
    "failure": 0.1,
}
UPSET_THRESHOLD = 0.1
POSITIVE_THRESHOLD = 0.4


@dataclass(frozen=True)
class Phrase:
    signal: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"signal": self.signal, "text": self.text}


@dataclass(frozen=True)
class TextAnalysis:
    """What the scorer found in one text."""

    intensity: float
    labels: tuple[str, ...]
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    repeat_mention: bool
    phrases: tuple[Phrase, ...]
    enough_text: bool
    compound: float
    model_version: str = SCORER_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "intensity": self.intensity,
            "labels": list(self.labels),
            "upset": self.upset,
            "churn_intent": self.churn_intent,
            "escalation_threat": self.escalation_threat,
            "repeat_mention": self.repeat_mention,
            "phrases": [p.as_dict() for p in self.phrases],
            "enough_text": self.enough_text,
            "model_version": self.model_version,
        }


@lru_cache(maxsize=1)
def _analyser() -> SentimentIntensityAnalyzer:
    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(COMPLAINT_LEXICON)
    return analyser


def text_clean(text: str) -> str:
    """Plain text for scoring: no HTML, no NULs, collapsed spaces, bounded length."""
    if not text:
        return ""
    text = text.replace("\x00", " ")
    if len(text) > MAX_SCORED_CHARS * 4:
        # Cut before the regexes run so that even 1 MB of markup costs the same as 16 kB.
        text = text[: MAX_SCORED_CHARS * 2] + " " + text[-MAX_SCORED_CHARS:]
    if "<" in text:
        text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    if "&" in text:
        text = html.unescape(text)
    text = _WS.sub(" ", text).strip()
    if len(text) > MAX_SCORED_CHARS:
        text = text[: MAX_SCORED_CHARS - TAIL_CHARS] + " … " + text[-TAIL_CHARS:]
    return text


FAILURE_WORDS = frozenset(
    word for word, valence in COMPLAINT_LEXICON.items() if valence <= -0.8
) | frozenset(
    {
        "suck",
        "sucks",
        "fail",
        "failed",
        "failure",
        "fault",
        "faulty",
        "problem",
        "problems",
        "issue",
        "issues",
        "excuse",
        "excuses",
        "negligence",
        "hung",
        "bounced",
        "declined",
        "denied",
        "rejected",
        "down",
        "sitting",
        "worst",
        "terrible",
        "horrible",
        "awful",
        "atrocious",
        "unacceptable",
        "ridiculous",
        "rude",
        "why",
    }
)
_TOKEN = re.compile(r"[a-z']+")

# One pass over the text finds every rule (a named group per signal) instead of one pass each.
_SIGNALS: dict[str, re.Pattern[str]] = {
    "churn_intent": CHURN,
    "escalation_threat": ESCALATION,
    "repeat": REPEAT,
    **EMOTIONS,
    "intensifier": INTENSIFIER,
}
_COMBINED = re.compile(
    "|".join(f"(?P<{name}>{pattern.pattern})" for name, pattern in _SIGNALS.items()),
    re.IGNORECASE,
)
MAX_PHRASES_PER_SIGNAL = 3


def _signals(text: str) -> dict[str, list[Phrase]]:
    found: dict[str, list[Phrase]] = {}
    for match in _COMBINED.finditer(text):
        signal = match.lastgroup or ""
        phrase = match.group(0)
        bucket = found.setdefault(signal, [])
        if len(bucket) < MAX_PHRASES_PER_SIGNAL and all(
            p.text.lower() != phrase.lower() for p in bucket
        ):
            bucket.append(Phrase(signal, phrase))
    return found


def _shouting(text: str) -> list[Phrase]:
    words = _WORD.findall(text)
    shouted = [w for w in _SHOUT_WORD.findall(text) if len(w) >= 3]
    # A whole message in capitals, or several shouted words in a mixed one. Short acronyms
    # (USA, ATM, ...) alone do not count.
    if len(shouted) >= 3 and len(shouted) * 3 >= len(words):
        return [Phrase("capitals", " ".join(shouted[:4]))]
    long_shouted = [w for w in shouted if len(w) >= 5]
    if len(long_shouted) >= 2:
        return [Phrase("capitals", " ".join(long_shouted[:4]))]
    return []


@dataclass(frozen=True)
class _Reading:
    """What the lexicon and the rules found in one cleaned text (before any model)."""

    enough: bool
    compound: float
    found: tuple[tuple[str, tuple[Phrase, ...]], ...]
    capitals: tuple[Phrase, ...]
    punctuation: tuple[Phrase, ...]
    failures: int


@lru_cache(maxsize=256)
def _read(clean: str) -> _Reading:
    # Cached: a trained model reads the scorer's findings as features, then the scorer runs
    # again with the model's probability; the same text is not read twice.
    return _Reading(
        enough=len(_LETTER.findall(clean[:2000])) >= MIN_LETTERS,
        compound=float(_analyser().polarity_scores(clean)["compound"]),
        found=tuple((signal, tuple(phrases)) for signal, phrases in _signals(clean).items()),
        capitals=tuple(_shouting(clean)),
        punctuation=tuple(Phrase("punctuation", m) for m in _PUNCT.findall(clean)[:1]),
        failures=sum(1 for token in _TOKEN.findall(clean.lower()) if token in FAILURE_WORDS),
    )


def text_analyse(text: str, *, upset_probability: float | None = None) -> TextAnalysis:
    """Score one text. `upset_probability` (from a trained model) replaces the lexicon's upset
    decision and sets the intensity's floor; the rules still run for the flags and phrases."""
    clean = text_clean(text)
    if not clean:
        return TextAnalysis(0.0, ("neutral",), False, False, False, False, (), False, 0.0)
    reading = _read(clean)
    enough = reading.enough
    compound = reading.compound
    found = dict(reading.found)
    churn = list(found.get("churn_intent", ()))
    escalation = list(found.get("escalation_threat", ()))
    repeat = list(found.get("repeat", ()))
    intensifiers = list(found.get("intensifier", ()))
    emotions = {label: list(found[label]) for label in EMOTIONS if label in found}
    capitals = list(reading.capitals)
    punctuation = list(reading.punctuation)
    failures = reading.failures
    phrases = [
        *churn,
        *escalation,
        *repeat,
        *capitals,
        *punctuation,
        *intensifiers,
        *(p for bucket in emotions.values() for p in bucket),
    ]
    # Sarcasm is common in complaints ("Thanks for the 9 hour delay!"): words that name a
    # failure count even when the lexicon finds the text polite.
    negativity = max(0.0, -compound) + WEIGHTS["failure"] * min(3, failures)
    boost = (
        WEIGHTS["capitals"] * bool(capitals)
        + WEIGHTS["punctuation"] * bool(punctuation)
        + WEIGHTS["repeat"] * bool(repeat)
        + WEIGHTS["churn_intent"] * bool(churn)
        + WEIGHTS["escalation_threat"] * bool(escalation)
        + WEIGHTS["emotion"] * min(2, len(emotions))
    )
    # Intensifiers and shouting amplify what is already negative; on praise they mean joy.
    if negativity > 0 or emotions or repeat or failures:
        boost += WEIGHTS["intensifier"] * bool(intensifiers)
    else:
        boost = WEIGHTS["churn_intent"] * bool(churn) + WEIGHTS["escalation_threat"] * bool(
            escalation
        )
    intensity = min(1.0, negativity + boost)
    if upset_probability is not None:
        upset = upset_probability >= 0.5
        intensity = min(1.0, max(intensity, upset_probability) if upset else intensity * 0.5)
    else:
        upset = intensity >= UPSET_THRESHOLD
    upset = upset or bool(churn) or bool(escalation)
    upset = upset and enough
    labels = [label for label in EMOTIONS if label in emotions]
    if upset and not labels:
        labels = ["frustration"] if repeat or negativity < 0.6 else ["anger"]
    if not labels:
        labels = ["positive"] if compound >= POSITIVE_THRESHOLD else ["neutral"]
    return TextAnalysis(
        intensity=round(intensity if enough else min(intensity, 0.2), 3),
        labels=tuple(labels),
        upset=upset,
        churn_intent=bool(churn) and enough,
        escalation_threat=bool(escalation) and enough,
        repeat_mention=bool(repeat),
        phrases=tuple(phrases),
        enough_text=enough,
        compound=round(compound, 4),
    )
