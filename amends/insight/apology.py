"""The apology coach: rules that check a reply to an upset customer before it is sent.

Research on service apologies finds that empathy matters most, then intensity (naming what went
wrong and owning it), then timing. The coach looks for what front-line replies usually get
wrong: insincere or conditional apologies, no apology when the customer is upset, the failure
not named, no ownership, no concrete next step with a time, nothing about preventing a repeat,
blaming the customer, and an apology buried at the end. Each finding explains itself and
suggests wording. It never blocks sending. Pure functions, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amends.insight.scoring import COMPLAINT_LEXICON, text_analyse, text_clean

COACH_VERSION = "coach-1"
MAX_DRAFT_CHARS = 20_000


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    suggestion: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "suggestion": self.suggestion}


@dataclass(frozen=True)
class ApologyReport:
    passes: bool
    findings: tuple[Finding, ...]
    customer_upset: bool

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def as_dict(self) -> dict[str, object]:
        return {
            "passes": self.passes,
            "findings": [f.as_dict() for f in self.findings],
            "customer_upset": self.customer_upset,
        }


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


APOLOGY = _rx(
    r"sorry",
    r"apolog(?:y|ies|ise|ize|ised|ized|ising|izing)",
    r"regret",
    r"forgive",
)
INSINCERE = _rx(
    r"(?:sorry|apolog\w*|regret)\s+(?:for\s+)?(?:any|all\s+the|the)\s+"
    r"(?:inconvenience|trouble|disruption|frustration|issues?)(?:\s+(?:this|that)\s+"
    r"(?:may\s+have|might\s+have|has|have)\s+caused)?",
    r"(?:sorry|apolog\w*|regret)\s+for\s+(?:any|all)\b",
    r"we\s+value\s+your\s+(?:business|custom)",
    r"your\s+call\s+is\s+important\s+to\s+us",
    r"sorry\s+to\s+hear\s+(?:that\s+)?(?:you|about)",
)
CONDITIONAL = _rx(
    r"(?:sorry|apolog\w*|regret)\s+if",
    r"(?:sorry|apolog\w*|regret)\s+(?:that\s+)?you\s+(?:feel|felt|think|thought|believe|were\s+upset|"
    r"are\s+upset|perceive)",
    r"if\s+(?:you\s+were|anyone\s+was)\s+(?:offended|upset|inconvenienced)",
    r"if\s+(?:there\s+was|there\s+has\s+been)\s+any\s+(?:inconvenience|mistake|error)",
    r"(?:may|might)\s+have\s+(?:caused|been)\s+(?:some|any)",
)
OWNERSHIP = _rx(
    r"(?:our|my)\s+(?:mistake|fault|error|failure|responsibility)",
    r"(?:we|i)\s+(?:made\s+a\s+mistake|got\s+(?:this|it)\s+wrong|should\s+have|should\s+not\s+have|"
    r"shouldn't\s+have|failed|let\s+you\s+down|did\s+not|didn't|messed\s+up|dropped\s+the\s+ball|"
    r"broke|missed|forgot|lost)",
    r"(?:we|i)\s+(?:take|accept)\s+(?:full\s+)?(?:responsibility|ownership)",
    r"(?:that|this)(?:'s|\s+is|\s+was)\s+on\s+us",
    r"(?:we|i)\s+(?:are|am)\s+responsible",
    r"(?:we|i)(?:'re|\s+are|'m|\s+am)\s+(?:to\s+blame|at\s+fault)",
    r"(?:it|this|that)\s+was\s+(?:our|my)\s+(?:mistake|fault|error)",
)
FUTURE_ACTION = _rx(
    r"(?:we|i)\s+(?:will|shall)",
    r"(?:we|i)'ll",
    r"(?:we|i)\s+(?:are|am)\s+going\s+to",
    r"(?:we|i)(?:'ve|\s+have)\s+(?:arranged|booked|scheduled|issued|sent|refunded|credited)",
    r"you\s+will\s+(?:receive|get|see|hear)",
    r"expect\s+(?:a|the|your)",
)
WHEN = _rx(
    r"today",
    r"tonight",
    r"tomorrow",
    r"this\s+(?:morning|afternoon|evening|week)",
    r"(?:by|on|before|until|next)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r"(?:by|before)\s+(?:the\s+)?end\s+of\s+(?:the\s+)?(?:day|week|month)",
    r"within\s+(?:the\s+next\s+)?(?:\d+|one|two|three|four|five|24|48|72)\s+(?:\w+\s+)?"
    r"(?:minutes?|hours?|days?|working\s+days?|business\s+days?)",
    r"(?:by|at|before)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)?",
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm)",
    r"(?:by|on|before)\s+\d{1,2}(?:st|nd|rd|th)?\s+\w+",
    r"(?:by|on|before)\s+\d{4}-\d{2}-\d{2}",
    r"next\s+week",
    r"in\s+(?:\d+|one|two|three)\s+(?:hours?|days?)",
)
PREVENTION = _rx(
    r"prevent",
    r"(?:never|not|won't|doesn't|does\s+not)\s+happen\s+again",
    r"(?:stop|avoid)\s+(?:this|it)\s+(?:from\s+)?happening",
    r"to\s+avoid",
    r"(?:make|making)\s+sure",
    r"ensure",
    r"root\s+cause",
    r"(?:we|i)(?:'ve|\s+have)\s+(?:changed|fixed|updated|retrained|trained|corrected|added|"
    r"put\s+in\s+place|introduced)",
    r"(?:changed|changing|fixed|fixing|updated|updating|reviewing)\s+(?:our|the)\s+"
    r"(?:process|procedure|system|checks?|training|policy)",
    r"(?:so|so\s+that)\s+(?:this|it)\s+(?:doesn't|does\s+not|won't|will\s+not)",
    r"learn(?:ed|t)?\s+from",
)
BLAME = _rx(
    r"you\s+should\s+have",
    r"you\s+(?:failed|neglected|forgot)\s+to",
    r"you\s+(?:didn't|did\s+not)\s+(?:read|follow|check|tell|inform|provide|call)",
    r"your\s+(?:own\s+)?(?:fault|mistake|error|responsibility)",
    r"as\s+you\s+(?:were|have\s+been)\s+(?:told|informed|advised)",
    r"you\s+must\s+have",
    r"you\s+(?:were|are)\s+supposed\s+to",
    r"if\s+you\s+had\s+(?:read|followed|checked|called|told)",
    r"(?:clearly\s+)?(?:stated|explained|written)\s+in\s+(?:our|the)\s+(?:terms|policy|"
    r"conditions|contract)",
    r"(?:per|according\s+to)\s+(?:our\s+)?policy,?\s+you",
    r"nothing\s+(?:we\s+can|more\s+we\s+can)\s+do",
    r"not\s+our\s+(?:fault|problem|responsibility)",
)
GENERIC = frozenset(
    [
        "inconvenience",
        "trouble",
        "issue",
        "issues",
        "problem",
        "problems",
        "experience",
        "situation",
        "matter",
        "frustration",
        "disruption",
        "this",
        "that",
        "it",
        "any",
        "all",
        "the",
        "your",
        "you",
        "for",
        "of",
        "to",
        "and",
        "our",
    ]
)
STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "much",
        "once",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "yours",
        "please",
        "thank",
        "thanks",
        "dear",
        "hello",
        "regards",
        "sorry",
        "apologise",
        "apologize",
        "really",
        "today",
        "still",
        "because",
        "since",
        "again",
    ]
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CONTENT = re.compile(r"[a-z][a-z'-]{3,}")
FAILURE_STEMS = tuple(
    sorted({w[:5] for w, v in COMPLAINT_LEXICON.items() if v <= -0.8 and len(w) >= 4})
)
LATE_AFTER_SENTENCES = 2


def _content_words(text: str) -> set[str]:
    return {w for w in _CONTENT.findall(text.lower()) if w not in STOPWORDS}


def _names_failure(apology_sentences: list[str], draft: str, customer_text: str) -> bool:
    """Does the reply say what went wrong? With the customer's words we look for the same
    subject; without them, for an apology about something other than a generic 'inconvenience'."""
    spoken = _content_words(draft)
    if customer_text:
        theirs = _content_words(customer_text)
        if spoken & theirs:
            return True
    if any(word.startswith(FAILURE_STEMS) for word in spoken):
        return True
    for sentence in apology_sentences:
        words = [w for w in re.findall(r"[a-z']+", sentence.lower()) if len(w) > 2]
        specific = [w for w in words if w not in GENERIC and w not in STOPWORDS]
        if len(specific) >= 3:
            return True
    return False


def apology_check(draft: str, customer_text: str = "") -> ApologyReport:
    """Check a draft reply (and, when given, the customer's message it answers)."""
    draft = text_clean(draft[: MAX_DRAFT_CHARS * 2])[:MAX_DRAFT_CHARS]
    customer_text = text_clean(customer_text)
    upset = text_analyse(customer_text).upset if customer_text else False
    findings: list[Finding] = []
    if len(re.findall(r"[^\W\d_]", draft)) < 3:
        findings.append(
            Finding(
                "empty_draft",
                "There is not enough text in the reply to check.",
                "Write the reply first, then check it.",
            )
        )
        return ApologyReport(False, tuple(findings), upset)
    sentences = [s for s in _SENTENCE.split(draft) if s.strip()]
    apology_at = [i for i, s in enumerate(sentences) if APOLOGY.search(s)]
    apologises = bool(apology_at)
    insincere = INSINCERE.search(draft)
    conditional = CONDITIONAL.search(draft)
    if insincere:
        findings.append(
            Finding(
                "insincere_apology",
                f"“{insincere.group(0)}” reads as a stock phrase, not a real apology.",
                "Apologise for the specific failure: “I am sorry that your engineer did not "
                "arrive on Tuesday as we promised.”",
            )
        )
    if conditional:
        findings.append(
            Finding(
                "conditional_apology",
                f"“{conditional.group(0)}” makes the apology conditional or about the "
                "customer's feelings rather than what we did.",
                "Drop the “if” and own the failure: “I am sorry we charged you twice.”",
            )
        )
    # Whether the reply needs the full recovery shape: an upset customer, an apology already
    # attempted, or no customer text to go by (the coach assumes a complaint).
    complaint_reply = upset or apologises or not customer_text
    if upset and not apologises:
        findings.append(
            Finding(
                "no_apology",
                "The customer is upset and the reply does not apologise.",
                "Acknowledge how they feel and apologise early: “I am sorry, you should not have "
                "had to chase us about this.”",
            )
        )
    if complaint_reply:
        apology_sentences = [sentences[i] for i in apology_at]
        if not _names_failure(apology_sentences, draft, customer_text):
            findings.append(
                Finding(
                    "failure_not_named",
                    "The reply does not say what went wrong.",
                    "Name the failure in the customer's terms: “the refund we promised by "
                    "Friday did not reach your account.”",
                )
            )
        if not OWNERSHIP.search(draft):
            findings.append(
                Finding(
                    "no_ownership",
                    "Nobody takes responsibility for the failure.",
                    "Say who got it wrong: “We made a mistake with your booking.”",
                )
            )
        if not (FUTURE_ACTION.search(draft) and WHEN.search(draft)):
            findings.append(
                Finding(
                    "no_next_step",
                    "There is no concrete next step with a time.",
                    "Say what happens next and when: “I will call you by 5 pm tomorrow with the "
                    "new delivery date.”",
                )
            )
        if not PREVENTION.search(draft):
            findings.append(
                Finding(
                    "no_prevention",
                    "Nothing says how a repeat will be prevented.",
                    "Tell them what changes: “We have added a check so that this does not "
                    "happen again.”",
                )
            )
    blame = BLAME.search(draft)
    if blame:
        findings.append(
            Finding(
                "blames_customer",
                f"“{blame.group(0)}” puts the blame on the customer.",
                "Explain what happened without blame and focus on what you will do now.",
            )
        )
    if upset and apologises and apology_at[0] >= LATE_AFTER_SENTENCES and len(sentences) > 3:
        findings.append(
            Finding(
                "late_apology",
                "The apology comes only after explanations; an upset customer reads the start "
                "first.",
                "Open with the apology and the acknowledgement, then explain.",
            )
        )
    return ApologyReport(not findings, tuple(findings), upset)
